import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { PublishRequest, PublishResult, ServingManifest } from '../../lambdas/core/serving-manifest';
import { deliveryKey } from '../../lambdas/serving-sync/delivery-log';
import { onWebhookEvent } from '../../lambdas/serving-sync/register-webhook';
import { createWebhookHandler, parseAliasEvent } from '../../lambdas/serving-sync/webhook';
import { signDelivery, verifyDelivery } from '../../lambdas/serving-sync/webhook-signature';

const SECRET = 'test-webhook-secret-0123456789';
const NOW = new Date('2026-05-01T12:00:00Z');
const NOW_SECONDS = String(NOW.getTime() / 1000);

describe('webhook signature', () => {
  const body = '{"entity":"model_version_alias","action":"created"}';

  it('matches what MLflow computes (HMAC-SHA256 over id.timestamp.body, base64, v1)', () => {
    // mlflow.webhooks.delivery._generate_hmac_signature('key', 'id-1', '1700000000', '{}')
    expect(signDelivery('key', 'id-1', '1700000000', '{}')).toBe(
      'v1,E98AYSNogJnwNU702HYvoYIu/imf0sHzkTbSuarQAx8=',
    );
  });

  it('accepts a correct signature within the window', () => {
    const signature = signDelivery(SECRET, 'd1', NOW_SECONDS, body);
    expect(
      verifyDelivery(SECRET, { deliveryId: 'd1', timestamp: NOW_SECONDS, signature, body }, { now: NOW }),
    ).toEqual({ ok: true, deliveryId: 'd1', timestamp: Number(NOW_SECONDS) });
  });

  it.each([
    ['no signature', { signature: undefined }, /Signature header is missing/],
    ['no delivery id', { deliveryId: undefined }, /Delivery-Id header is missing/],
    ['no timestamp', { timestamp: undefined }, /Timestamp header is missing/],
    ['a timestamp that is not Unix seconds', { timestamp: '2026-05-01' }, /must be Unix seconds/],
    ['another version', { signature: 'v2,abc' }, /must start with 'v1,'/],
    ['a signature of another body', { body: `${body} ` }, /does not match/],
    [
      'a signature by another secret',
      { signature: signDelivery('other', 'd1', NOW_SECONDS, body) },
      /does not match/,
    ],
    ['a truncated signature', { signature: 'v1,QiJb' }, /does not match/],
  ])('refuses %s', (_name, change, reason) => {
    const delivery = {
      deliveryId: 'd1',
      timestamp: NOW_SECONDS,
      signature: signDelivery(SECRET, 'd1', NOW_SECONDS, body),
      body,
      ...change,
    };
    const verdict = verifyDelivery(SECRET, delivery, { now: NOW });
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toMatch(reason);
  });

  it('refuses a timestamp more than 300 s away, either way, and accepts one at the edge', () => {
    const at = (offset: number) => {
      const timestamp = String(Number(NOW_SECONDS) + offset);
      return verifyDelivery(
        SECRET,
        { deliveryId: 'd', timestamp, signature: signDelivery(SECRET, 'd', timestamp, body), body },
        { now: NOW },
      );
    };
    expect(at(-301)).toMatchObject({ ok: false, reason: expect.stringMatching(/301 s from now/) });
    expect(at(301).ok).toBe(false);
    expect(at(-300).ok).toBe(true);
    expect(at(300).ok).toBe(true);
  });
});

/** An in-memory bucket answering the conditional PutObject and DeleteObject the delivery log sends. */
function fakeBucket() {
  const objects = new Map<string, string>();
  const s3 = {
    send: async (command: unknown) => {
      if (command instanceof PutObjectCommand) {
        const key = command.input.Key as string;
        if (command.input.IfNoneMatch === '*' && objects.has(key)) {
          throw Object.assign(new Error('PreconditionFailed'), { $metadata: { httpStatusCode: 412 } });
        }
        objects.set(key, String(command.input.Body ?? ''));
        return {};
      }
      if (command instanceof DeleteObjectCommand) {
        objects.delete(command.input.Key as string);
        return {};
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  } as unknown as S3Client;
  return { s3, objects };
}

function manifestOf(model: string, alias: string, version: string): ServingManifest {
  return {
    format: 1,
    model,
    alias,
    version,
    run_id: null,
    source: 'models:/m-1',
    files: [{ path: 'model.onnx', uri: 's3://b/models/x/1/model.onnx', sha256: 'a'.repeat(64), bytes: 1 }],
    signature: null,
    moved_at: NOW.toISOString(),
    moved_by: null,
    via: 'webhook',
    written_at: NOW.toISOString(),
  };
}

function setup(publish?: (request: PublishRequest) => Promise<PublishResult>) {
  const bucket = fakeBucket();
  const published: PublishRequest[] = [];
  const logged: Record<string, unknown>[] = [];
  const receive = createWebhookHandler({
    secret: SECRET,
    s3: bucket.s3,
    bucket: 'serving',
    servedModels: ['iris'],
    now: () => NOW,
    log: (entry) => logged.push(entry),
    publish: async (request) => {
      published.push(request);
      return publish
        ? publish(request)
        : { action: 'written', manifest: manifestOf(request.model, request.alias, '3'), previous: '2' };
    },
  });
  return { receive, published, logged, objects: bucket.objects };
}

function delivery(
  payload: unknown,
  options: {
    id?: string;
    timestamp?: string;
    secret?: string;
    headers?: Record<string, string | undefined>;
  } = {},
): APIGatewayProxyEvent {
  const body = JSON.stringify(payload);
  const id = options.id ?? 'delivery-1';
  const timestamp = options.timestamp ?? NOW_SECONDS;
  return {
    httpMethod: 'POST',
    path: '/webhooks/mlflow',
    body,
    isBase64Encoded: false,
    headers: {
      'Content-Type': 'application/json',
      'X-MLflow-Delivery-Id': id,
      'X-MLflow-Timestamp': timestamp,
      'X-MLflow-Signature': signDelivery(options.secret ?? SECRET, id, timestamp, body),
      ...options.headers,
    },
  } as unknown as APIGatewayProxyEvent;
}

const created = {
  entity: 'model_version_alias',
  action: 'created',
  timestamp: NOW.toISOString(),
  data: { name: 'iris', alias: 'Production', version: '3' },
};

describe('webhook handler', () => {
  it('publishes the alias of a served model through the webhook writer, once per delivery', async () => {
    const { receive, published, objects } = setup();
    const first = await receive(delivery(created));
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({
      action: 'written',
      version: '3',
      model: 'iris',
      alias: 'Production',
    });
    expect(published).toEqual([{ model: 'iris', alias: 'Production', via: 'webhook' }]);
    expect(objects.has(deliveryKey('delivery-1'))).toBe(true);

    const replay = await receive(delivery(created));
    expect(replay.statusCode).toBe(409);
    expect(JSON.parse(replay.body).error).toMatch(/delivery-1 was already received/);
    expect(published).toHaveLength(1);
  });

  it('publishes a deleted alias too (the publisher removes its manifest)', async () => {
    const { receive, published } = setup(async () => ({ action: 'deleted', previous: '3' }));
    const answer = await receive(
      delivery({ ...created, action: 'deleted', data: { name: 'iris', alias: 'Production' } }),
    );
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ action: 'deleted', version: null });
    expect(published).toHaveLength(1);
  });

  it.each([
    [
      'unsigned',
      delivery(created, { headers: { 'X-MLflow-Signature': undefined } }),
      /Signature header is missing/,
    ],
    ['signed with another secret', delivery(created, { secret: 'not-the-secret' }), /does not match/],
    ['stale', delivery(created, { timestamp: String(Number(NOW_SECONDS) - 600) }), /600 s from now/],
  ])(
    'answers 401 to a delivery that is %s and records and publishes nothing',
    async (_name, event, reason) => {
      const { receive, published, objects } = setup();
      const answer = await receive(event);
      expect(answer.statusCode).toBe(401);
      expect(JSON.parse(answer.body).error).toMatch(reason);
      expect(published).toEqual([]);
      expect(objects.size).toBe(0);
    },
  );

  it('ignores (202) other events and models it does not serve, without recording them', async () => {
    const { receive, published, objects } = setup();
    const other = await receive(delivery({ ...created, entity: 'model_version', action: 'created' }));
    expect(other.statusCode).toBe(202);
    expect(JSON.parse(other.body).ignored).toMatch(/model_version.created is not an alias move/);
    const unserved = await receive(
      delivery({ ...created, data: { name: 'wine', alias: 'Production', version: '1' } }, { id: 'd2' }),
    );
    expect(unserved.statusCode).toBe(202);
    expect(JSON.parse(unserved.body).ignored).toMatch(/'wine' is not served/);
    expect(published).toEqual([]);
    expect(objects.size).toBe(0);
  });

  it('answers 400 to a signed body that is not an alias event it can read', async () => {
    const { receive } = setup();
    const answer = await receive(delivery({ ...created, data: { alias: 'Production' } }));
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body).error).toMatch(/data.name/);
  });

  it('answers 405 to anything but POST', async () => {
    const { receive } = setup();
    expect((await receive({ ...delivery(created), httpMethod: 'GET' })).statusCode).toBe(405);
  });

  it("releases the delivery when publishing fails, so MLflow's retry (same id) is processed", async () => {
    let failures = 1;
    const { receive, published, objects } = setup(async (request) => {
      if (failures-- > 0) throw new Error('MLflow unreachable');
      return { action: 'written', manifest: manifestOf(request.model, request.alias, '4'), previous: '3' };
    });
    const failed = await receive(delivery(created));
    expect(failed.statusCode).toBe(500);
    expect(JSON.parse(failed.body).error).toMatch(/iris@Production failed: MLflow unreachable/);
    expect(objects.size).toBe(0);
    const retried = await receive(delivery(created));
    expect(retried.statusCode).toBe(200);
    expect(published).toHaveLength(2);
  });

  it('reads the base64 bodies API Gateway may hand over', async () => {
    const { receive } = setup();
    const event = delivery(created);
    const answer = await receive({
      ...event,
      body: Buffer.from(event.body ?? '').toString('base64'),
      isBase64Encoded: true,
    });
    expect(answer.statusCode).toBe(200);
  });
});

describe('alias events', () => {
  it('reads model and alias from the created and deleted events', () => {
    expect(parseAliasEvent(JSON.stringify(created))).toEqual({
      kind: 'alias',
      event: 'model_version_alias.created',
      model: 'iris',
      alias: 'Production',
    });
    expect(parseAliasEvent('not json')).toEqual({ kind: 'invalid', reason: 'the body is not JSON' });
  });
});

describe('webhook registration (custom resource)', () => {
  function fakeWebhooks() {
    const calls: string[] = [];
    return {
      calls,
      webhooks: {
        ensure: async (spec: { name: string; url: string; secret: string }) => {
          calls.push(`ensure ${spec.name} ${spec.url} ${spec.secret}`);
          return {
            action: 'created' as const,
            webhook: { webhook_id: 'wh-1', name: spec.name, url: spec.url, events: [] },
          };
        },
        delete: async (id: string) => {
          calls.push(`delete ${id}`);
          return true;
        },
      },
    };
  }
  const base = {
    ServiceToken: 'arn',
    ResponseURL: 'https://x',
    StackId: 's',
    RequestId: 'r',
    LogicalResourceId: 'L',
    ResourceType: 'Custom::MlflowWebhook',
  };

  it('creates or updates the webhook by name and returns its id as the physical id', async () => {
    const { calls, webhooks } = fakeWebhooks();
    const response = await onWebhookEvent(
      {
        ...base,
        RequestType: 'Create',
        ResourceProperties: { ServiceToken: 'arn', WebhookUrl: 'https://api/webhooks/mlflow' },
      },
      { webhooks, secret: 's3cret', log: () => undefined },
    );
    expect(response).toEqual({
      PhysicalResourceId: 'wh-1',
      Data: { WebhookId: 'wh-1', WebhookName: 'mlops-serving' },
    });
    expect(calls).toEqual(['ensure mlops-serving https://api/webhooks/mlflow s3cret']);
  });

  it('deletes the webhook of the physical id', async () => {
    const { calls, webhooks } = fakeWebhooks();
    const response = await onWebhookEvent(
      {
        ...base,
        RequestType: 'Delete',
        PhysicalResourceId: 'wh-9',
        ResourceProperties: { ServiceToken: 'arn' },
      },
      { webhooks, secret: 's3cret', log: () => undefined },
    );
    expect(response).toEqual({ PhysicalResourceId: 'wh-9' });
    expect(calls).toEqual(['delete wh-9']);
  });

  it('refuses a WebhookUrl that is not an http(s) URL, naming the property', async () => {
    const { webhooks } = fakeWebhooks();
    await expect(
      onWebhookEvent(
        {
          ...base,
          RequestType: 'Create',
          ResourceProperties: { ServiceToken: 'arn', WebhookUrl: 'ftp://x' },
        },
        { webhooks, secret: 's', log: () => undefined },
      ),
    ).rejects.toThrow(/WebhookUrl must be an http\(s\) URL/);
  });
});

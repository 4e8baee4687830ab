import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { manifestKey, parseManifest, serializeManifest } from '../../lambdas/core/serving-manifest';
import { deliveryKey } from '../../lambdas/serving-sync/delivery-log';
import { s3ClientFromEnv } from '../../lambdas/serving-sync/sync-config';
import { signDelivery } from '../../lambdas/serving-sync/webhook-signature';
import { createApiGatewayServer } from '../../localstack/serve/api-gateway-adapter';
import {
  localWebhookSecret,
  type ServingSync,
  startServingSync,
  webhookIsPublic,
  withWebhookRoute,
} from '../../localstack/serve/serving-sync';
import { pythonAliasMover } from '../support/python-alias-mover';
import { registerServableVersions } from '../support/serving-sync-fixtures';

// The webhook route and the reconciler as `npm run serve` mounts them (localstack/serve/serving-sync.ts),
// with the REAL local MLflow sending REAL webhooks (alias moves made with MLflow's Python client)
// and the manifests in the local S3.
const localEnv = inject('localEnv');
const suffix = randomUUID().slice(0, 8);
const model = `serving-webhook-${suffix}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...localEnv,
  MODEL_NAME: model,
  SERVED_MODELS: model,
  SERVING_WEBHOOK_NAME: `serving-webhook-test-${suffix}`,
};
const client = MlflowClient.fromEnv(env);
const s3 = s3ClientFromEnv(env);
const bucket = localEnv.SERVING_BUCKET;
const secret = localWebhookSecret(env);
let versions: [string, string];
let server: Server;
let url: string;
let sync: ServingSync | undefined;

const notFound = async () => ({ statusCode: 404, body: '{"error":"not found"}' });
const refuseAll = async () => ({ ok: false as const, type: 'ForbiddenException', message: 'Forbidden' });

async function manifestVersion(alias: string): Promise<string | null> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(model, alias) }));
    return parseManifest((await answer.Body?.transformToByteArray()) ?? new Uint8Array(), alias).version;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return null;
    throw error;
  }
}

async function manifestVersionIds(alias: string): Promise<string[]> {
  const page = await s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: manifestKey(model, alias) }),
  );
  return [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
    .map((entry) => entry.VersionId ?? '')
    .sort();
}

async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (done(await read())) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

function post(body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/webhooks/mlflow`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

function signed(body: string, options: { id?: string; timestamp?: number; key?: string } = {}) {
  const id = options.id ?? randomUUID();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    id,
    headers: {
      'X-MLflow-Delivery-Id': id,
      'X-MLflow-Timestamp': timestamp,
      'X-MLflow-Signature': signDelivery(options.key ?? secret, id, timestamp, body),
    },
  };
}

beforeAll(async () => {
  versions = (await registerServableVersions(client, model, 2)) as [string, string];
  server = createApiGatewayServer(
    withWebhookRoute(notFound, env, () => undefined),
    {
      authorize: webhookIsPublic(refuseAll),
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  sync = await startServingSync(port, { ...env, SERVING_RECONCILE_SECONDS: '3600' }, () => undefined);
  expect(sync.webhookId).not.toBeNull();
  // MLflow caches its webhook list per event for MLFLOW_WEBHOOK_CACHE_TTL (5 s locally).
  await new Promise((resolve) => setTimeout(resolve, 6000));
});

afterAll(async () => {
  sync?.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  s3.destroy();
});

describe('MLflow webhooks write the serving manifest', () => {
  it('an alias moved with the Python client reaches the manifest within 2 s (p95 over 20 moves)', async () => {
    const mover = pythonAliasMover(model, env);
    try {
      await mover.ready();
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const version = versions[i % 2] as string;
        const movedAt = await mover.move('Production', version);
        await waitFor(
          () => manifestVersion('Production'),
          (seen) => seen === version,
          10_000,
        );
        latencies.push(Date.now() - movedAt);
      }
      latencies.sort((a, b) => a - b);
      const p95 = latencies[Math.ceil(0.95 * latencies.length) - 1] ?? Number.POSITIVE_INFINITY;
      console.error(
        `webhook alias-follow latency over 20 moves: p50 ${latencies[9]} ms, p95 ${p95} ms, max ${latencies.at(-1)} ms`,
      );
      expect(p95).toBeLessThanOrEqual(2000);
      // Written by the webhook, not by anyone else.
      const answer = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: manifestKey(model, 'Production') }),
      );
      const manifest = parseManifest(
        (await answer.Body?.transformToByteArray()) ?? new Uint8Array(),
        'Production',
      );
      expect(manifest.via).toBe('webhook');
    } finally {
      mover.close();
    }
  });

  it('a deleted alias loses its manifest through the webhook', async () => {
    await client.setRegisteredModelAlias(model, 'Staging', versions[0]);
    await waitFor(
      () => manifestVersion('Staging'),
      (seen) => seen === versions[0],
      10_000,
    );
    await client.deleteRegisteredModelAlias(model, 'Staging');
    await waitFor(
      () => manifestVersion('Staging'),
      (seen) => seen === null,
      10_000,
    );
  });

  it('replayed, unsigned, stale or wrongly signed deliveries are rejected and change nothing', async () => {
    await client.setRegisteredModelAlias(model, 'Production', versions[1]);
    await waitFor(
      () => manifestVersion('Production'),
      (seen) => seen === versions[1],
      10_000,
    );
    const body = JSON.stringify({
      entity: 'model_version_alias',
      action: 'created',
      timestamp: new Date().toISOString(),
      data: { name: model, alias: 'Production', version: versions[1] },
    });
    const first = signed(body);
    expect((await post(body, first.headers)).status).toBe(200);
    expect(
      (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: deliveryKey(first.id) }))).$metadata
        .httpStatusCode,
    ).toBe(200);

    // The manifest drifts (an older version's manifest put back by hand): any delivery that got
    // through would rewrite it from the registry.
    const stale = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: manifestKey(model, 'Production') }),
    );
    const current = parseManifest(
      (await stale.Body?.transformToByteArray()) ?? new Uint8Array(),
      'Production',
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: manifestKey(model, 'Production'),
        Body: serializeManifest({ ...current, version: versions[0] }),
      }),
    );
    const before = await manifestVersionIds('Production');

    const replay = await post(body, first.headers);
    expect(replay.status).toBe(409);
    const unsigned = await post(body, {
      'X-MLflow-Delivery-Id': randomUUID(),
      'X-MLflow-Timestamp': String(Math.floor(Date.now() / 1000)),
    });
    expect(unsigned.status).toBe(401);
    const old = signed(body, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    const staleAnswer = await post(body, old.headers);
    expect(staleAnswer.status).toBe(401);
    expect(((await staleAnswer.json()) as { error: string }).error).toMatch(/from now/);
    const forged = signed(body, { key: 'not-the-secret-at-all' });
    expect((await post(body, forged.headers)).status).toBe(401);
    const tampered = signed(body);
    expect((await post(body.replace(versions[1], versions[0]), tampered.headers)).status).toBe(401);

    expect(await manifestVersionIds('Production')).toEqual(before);
    expect(await manifestVersion('Production')).toBe(versions[0]);
    for (const id of [old.id, forged.id, tampered.id]) {
      await expect(
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: deliveryKey(id) })),
      ).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
    }
    // A fresh, correctly signed delivery repairs the manifest from the registry.
    expect((await post(body, signed(body).headers)).status).toBe(200);
    expect(await manifestVersion('Production')).toBe(versions[1]);
  });
});

describe('with webhooks off, the reconciler', () => {
  it('writes a move made with the Python client within its period', async () => {
    sync?.stop();
    const period = 3;
    sync = await startServingSync(
      Number(new URL(url).port),
      { ...env, SERVING_WEBHOOK: 'off', SERVING_RECONCILE_SECONDS: String(period) },
      () => undefined,
    );
    expect(sync.webhookId).toBeNull();
    // MLflow may still deliver to the deleted webhook until its cache (5 s) expires.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const current = await manifestVersion('Production');
    const target = current === versions[0] ? versions[1] : versions[0];
    const mover = pythonAliasMover(model, env);
    try {
      await mover.ready();
      const movedAt = await mover.move('Production', target);
      await waitFor(
        () => manifestVersion('Production'),
        (seen) => seen === target,
        (period + 5) * 1000,
      );
      const waited = Date.now() - movedAt;
      console.error(`reconciler alias-follow latency: ${waited} ms (period ${period} s)`);
      // The period, plus one reconciler pass (a few MLflow and S3 calls) on a loaded machine.
      expect(waited).toBeLessThanOrEqual(period * 1000 + 1500);
      const answer = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: manifestKey(model, 'Production') }),
      );
      const manifest = parseManifest(
        (await answer.Body?.transformToByteArray()) ?? new Uint8Array(),
        'Production',
      );
      expect(manifest.via).toBe('reconciler');
    } finally {
      mover.close();
    }
  });
});

import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPredictApp } from '../../lambdas/predict/app';
import { createApiGatewayServer, type ProxyHandler } from '../../localstack/serve/api-gateway-adapter';
import { requestAuthorizer } from '../../localstack/serve/request-auth';
import {
  irisClassifier,
  irisPredictConfig,
  irisRegistry,
  modelFiles,
  SETOSA,
} from '../support/predict-model-fixture';

const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(handler: ProxyHandler): Promise<string> {
  const server = createApiGatewayServer(handler, { functionName: 'predict-adapter-test' });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('API Gateway adapter', () => {
  it('turns a Node request into a REST proxy event with a Lambda context', async () => {
    let seen: { event: APIGatewayProxyEvent; context: Context } | undefined;
    const url = await serve(async (event, context) => {
      seen = { event, context };
      return { statusCode: 204, body: '' };
    });

    const response = await fetch(`${url}/predict?alias=Challenger&tag=a&tag=b`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Trace': 'abc' },
      body: '{"instances":[]}',
    });

    expect(response.status).toBe(204);
    const event = seen?.event;
    expect(event).toMatchObject({
      httpMethod: 'POST',
      path: '/predict',
      resource: '/{proxy+}',
      body: '{"instances":[]}',
      isBase64Encoded: false,
      queryStringParameters: { alias: 'Challenger', tag: 'b' },
      multiValueQueryStringParameters: { alias: ['Challenger'], tag: ['a', 'b'] },
      requestContext: { httpMethod: 'POST', stage: 'local', path: '/local/predict' },
    });
    expect(event?.headers['Content-Type']).toBe('application/json');
    expect(event?.headers['X-Trace']).toBe('abc');
    expect(seen?.context.awsRequestId).toBe(event?.requestContext.requestId);
    expect(seen?.context.functionName).toBe('predict-adapter-test');
    expect(seen?.context.getRemainingTimeInMillis()).toBeGreaterThan(29_000);
  });

  it('writes the result back: status, single and multi-value headers, base64 bodies', async () => {
    const url = await serve(
      async (): Promise<APIGatewayProxyResult> => ({
        statusCode: 201,
        headers: { 'content-type': 'application/octet-stream' },
        multiValueHeaders: { 'x-many': ['1', '2'] },
        body: Buffer.from([0, 1, 2, 255]).toString('base64'),
        isBase64Encoded: true,
      }),
    );

    const response = await fetch(url);

    expect(response.status).toBe(201);
    expect(response.headers.get('x-many')).toBe('1, 2');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0, 1, 2, 255]);
  });

  it('merges headers as API Gateway does: multi-value names win, its own content-length', async () => {
    const body = '{"ok":"é"}';
    const url = await serve(
      async (): Promise<APIGatewayProxyResult> => ({
        statusCode: 200,
        headers: { 'x-both': 'single', 'x-one': 'a', 'content-length': '1' },
        multiValueHeaders: { 'x-both': ['m1', 'm2'] },
        body,
      }),
    );

    const response = await fetch(url);

    expect(response.headers.get('x-both')).toBe('m1, m2');
    expect(response.headers.get('x-one')).toBe('a');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(await response.text()).toBe(body);
  });

  it('answers 502 when the handler throws, as API Gateway does', async () => {
    const url = await serve(async () => {
      throw new Error('boom');
    });

    const response = await fetch(url);

    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });

  it('refuses bodies over API Gateway’s 10 MB itself', async () => {
    let called = false;
    const url = await serve(async () => {
      called = true;
      return { statusCode: 200, body: '' };
    });

    const response = await fetch(`${url}/predict`, {
      method: 'POST',
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });

    expect(response.status).toBe(413);
    expect(called).toBe(false);
  });

  it('answers 403 as API Gateway does when the authorizer refuses, without invoking the handler', async () => {
    let invoked = 0;
    const server = createApiGatewayServer(
      async () => {
        invoked++;
        return { statusCode: 200, body: '{}' };
      },
      { authorize: requestAuthorizer({ mode: 'api-key', keys: ['adapter-key'] }) },
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const refused = await fetch(`${url}/predict`, { method: 'POST', body: '{}' });
    const open = await fetch(`${url}/health`);
    const keyed = await fetch(`${url}/status`, { headers: { 'x-api-key': 'adapter-key' } });

    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await refused.json()).toEqual({ message: 'Forbidden' });
    expect([open.status, keyed.status]).toEqual([200, 200]);
    expect(invoked).toBe(2);
  });

  it('keeps the metrics of concurrent invocations apart, like the multi-concurrency Lambda runtime', async () => {
    const registry = irisRegistry();
    registry.setAlias('Challenger', registry.addVersion(modelFiles(irisClassifier()), 'run-2').version);
    const { handler, store } = createPredictApp(
      irisPredictConfig({ aliasTtlMs: 60_000, maxRows: 10, maxBodyBytes: 4096 }),
      {
        registry,
        observability: {
          logger: new Logger({ logLevel: 'SILENT' }),
          metrics: new Metrics({ namespace: 'Test', serviceName: 'predict' }),
        },
      },
    );
    const url = await serve(handler);
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.includes('"_aws"')) lines.push(...text.trim().split('\n'));
      else return write(chunk, ...(rest as []));
      return true;
    });

    const aliases = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? 'Production' : 'Challenger'));
    const answers = await Promise.all(
      aliases.map((alias) =>
        fetch(`${url}/predict?alias=${alias}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: [SETOSA] }),
        }),
      ),
    );
    vi.restoreAllMocks();
    store.close();

    expect(answers.map((answer) => answer.status)).toEqual(Array(24).fill(200));
    const served = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => 'ServedModelVersion' in line)
      .map((line) => [line.Alias, line.ServedModelVersion, line.Requests]);
    expect(served).toHaveLength(24);
    for (const [alias, version, requests] of served) {
      expect([alias, version, requests]).toEqual(
        alias === 'Production' ? ['Production', 1, 1] : ['Challenger', 2, 1],
      );
    }
  });
});

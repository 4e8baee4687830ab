/**
 * What the predict API tells anyone who calls it: only the aliases the deployment allows (an
 * unknown one is a 404 that costs no registry call), and no host names, addresses, URLs or
 * upstream error text in public answers when the registry is down (that goes to the log).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManifestRegistry } from '../../lambdas/core/serving/manifest-registry';
import type { ModelStore } from '../../lambdas/core/serving/model-store';
import { createPredictApp, type PredictHandler } from '../../lambdas/predict/app';
import { loadPredictConfig } from '../../lambdas/predict/config';
import { lambdaContext } from '../../localstack/serve/api-gateway-adapter';
import type { InMemoryRegistry } from '../support/in-memory-registry';
import {
  irisClassifier,
  irisPredictConfig,
  irisRegistry,
  modelFiles,
  proxyEvent,
  SETOSA,
} from '../support/predict-model-fixture';

const stores: ModelStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

function silent() {
  return {
    logger: new Logger({ serviceName: 'predict', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'predict' }),
  };
}

function app(registry: InMemoryRegistry, allowedAliases?: string[]) {
  const config = irisPredictConfig({ aliasTtlMs: 60_000, maxRows: 5, maxBodyBytes: 4096 });
  const built = createPredictApp(
    { ...config, ...(allowedAliases ? { allowedAliases } : {}) },
    { registry, observability: silent() },
  );
  stores.push(built.store);
  return built;
}

async function call(handler: PredictHandler, event: APIGatewayProxyEvent) {
  const result = await handler(event, lambdaContext('req-1', { functionName: 'predict-test' }));
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
}

const predictWith = (alias: string) =>
  proxyEvent({ body: JSON.stringify({ instances: [SETOSA] }), query: { alias } });

describe('?alias=', () => {
  it('answers an alias the deployment does not allow with 404 and never asks the registry', async () => {
    const registry = irisRegistry();
    registry.setAlias('Canary', '1');
    const resolve = vi.spyOn(registry, 'resolveAlias');
    const download = vi.spyOn(registry, 'downloadModel');
    const { handler } = app(registry);

    const answers = [];
    for (const alias of ['Canary', 'Staging', 'Canary'])
      answers.push(await call(handler, predictWith(alias)));

    for (const answer of answers) {
      expect(answer.statusCode).toBe(404);
      expect(answer.headers).toMatchObject({ 'content-type': 'application/json' });
    }
    expect(answers[1]?.json).toEqual({
      error: {
        code: 'UNKNOWN_ALIAS',
        message: "alias 'Staging' is not served by this API; allowed: Production, Challenger",
        field: 'alias',
        row: null,
      },
    });
    expect(resolve).not.toHaveBeenCalled();
    expect(download).not.toHaveBeenCalled();
  });

  it('serves the allowed shadow alias and the served one', async () => {
    const registry = irisRegistry();
    registry.setAlias('Challenger', registry.addVersion(modelFiles(irisClassifier()), 'run-2').version);
    const { handler } = app(registry);

    const challenger = await call(handler, predictWith('Challenger'));
    const production = await call(handler, predictWith('Production'));

    expect(challenger.statusCode).toBe(200);
    expect(challenger.json).toMatchObject({ model: { alias: 'Challenger', version: '2' } });
    expect(production.json).toMatchObject({ model: { alias: 'Production', version: '1' } });
  });

  it('takes the list the deployment gives (ALLOWED_ALIASES) and keeps the served alias in it', async () => {
    const config = loadPredictConfig({
      SERVING_BUCKET: 'mlops-serving-dev',
      MODEL_NAME: 'iris',
      ALLOWED_ALIASES: 'Canary, Shadow',
    });
    expect(config.allowedAliases).toEqual(['Production', 'Canary', 'Shadow']);

    const registry = irisRegistry();
    registry.setAlias('Canary', '1');
    const { handler } = app(registry, [...config.allowedAliases]);

    expect((await call(handler, predictWith('Canary'))).statusCode).toBe(200);
    expect((await call(handler, predictWith('Challenger'))).statusCode).toBe(404);
  });

  it('names ALLOWED_ALIASES when an entry is not an alias name', () => {
    expect(() =>
      loadPredictConfig({
        SERVING_BUCKET: 'mlops-serving-dev',
        MODEL_NAME: 'iris',
        ALLOWED_ALIASES: 'Canary,bad alias',
      }),
    ).toThrow(/ALLOWED_ALIASES must be a comma-separated list of aliases .*\(got "Canary,bad alias"\)/);
  });

  it('still answers a malformed alias with 400 naming the field', async () => {
    const { handler } = app(irisRegistry());

    const answer = await call(handler, predictWith('a b'));

    expect(answer.statusCode).toBe(400);
    expect(answer.json).toMatchObject({ error: { code: 'INVALID_ALIAS', field: 'alias' } });
  });
});

describe('public answers when the serving bucket is unreachable', () => {
  const PRIVATE = ['10.0.3.7', 'internal-s3-xyz', 'vpce.amazonaws.com', 'ECONNREFUSED', 'http', ':443'];

  /**
   * The real manifest registry and S3 client, with the one thing a unit test may not do — open a
   * socket — replaced by a request handler failing the way Node fails to reach a VPC endpoint.
   */
  function unreachableBucket(): { handler: PredictHandler; store: ModelStore; logs: string[] } {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const logger = new Logger({ serviceName: 'predict', logLevel: 'SILENT' });
    const logs: string[] = [];
    vi.spyOn(logger, 'warn').mockImplementation((message, ...extra) => {
      logs.push(JSON.stringify([message, ...extra]));
    });
    const config = loadPredictConfig({ SERVING_BUCKET: 'mlops-serving-dev', MODEL_NAME: 'iris' });
    const s3 = new S3Client({
      region: 'eu-west-1',
      endpoint: 'https://internal-s3-xyz.vpce.amazonaws.com:443',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
      requestHandler: {
        handle: async () => {
          throw Object.assign(new Error('connect ECONNREFUSED 10.0.3.7:443'), {
            code: 'ECONNREFUSED',
            address: '10.0.3.7',
            port: 443,
          });
        },
      },
    });
    const built = createPredictApp(config, {
      registry: new ManifestRegistry({ s3, bucket: config.servingBucket }),
      observability: {
        logger,
        metrics: new Metrics({ namespace: 'Test', serviceName: 'predict' }),
      },
    });
    stores.push(built.store);
    return { ...built, logs };
  }

  it('says "registry unreachable" on /predict and /invocations and logs the detail instead', async () => {
    const { handler, logs } = unreachableBucket();

    const predicted = await call(handler, predictWith('Production'));
    const invoked = await call(
      handler,
      proxyEvent({ path: '/invocations', body: JSON.stringify({ instances: [SETOSA] }) }),
    );
    const ping = await call(handler, proxyEvent({ method: 'GET', path: '/ping' }));
    const status = await call(handler, proxyEvent({ method: 'GET', path: '/status' }));

    expect(predicted.statusCode).toBe(503);
    expect(predicted.json).toEqual({
      error: {
        code: 'MODEL_UNAVAILABLE',
        message: "no model version can be served for alias 'Production': registry unreachable",
        field: null,
        row: null,
      },
    });
    expect(invoked.statusCode).toBe(503);
    expect(invoked.json).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: "no model version can be served for alias 'Production': registry unreachable",
    });
    expect(ping.statusCode).toBe(503);
    for (const answer of [predicted, invoked, ping]) {
      for (const secret of PRIVATE) expect(answer.body).not.toContain(secret);
      expect(JSON.stringify(answer.headers)).not.toContain('10.0.3.7');
    }
    // The signed /status says what kind of problem it is; the upstream text stays in the log.
    expect(status.json).toMatchObject({
      status: 'unavailable',
      aliases: [
        {
          alias: 'Production',
          last_error: {
            code: 'REGISTRY_UNREACHABLE',
            message: "registry unreachable (the details are in the function's log)",
          },
        },
      ],
    });
    for (const secret of PRIVATE) expect(status.body).not.toContain(secret);
    const logged = logs.join('\n');
    expect(logged).toContain('10.0.3.7');
    expect(logged).toContain('no model to serve');
  });

  it('keeps the public /openapi.json free of the bucket address', async () => {
    const { handler } = unreachableBucket();

    const document = await call(handler, proxyEvent({ method: 'GET', path: '/openapi.json' }));

    expect(document.statusCode).toBe(200);
    for (const secret of ['10.0.3.7', 'internal-s3-xyz', 'vpce.amazonaws.com']) {
      expect(document.body).not.toContain(secret);
    }
  });
});

describe('/openapi.json security', () => {
  type Doc = {
    paths: Record<string, Record<string, { security?: unknown[]; parameters?: { schema: unknown }[] }>>;
    components: { securitySchemes: Record<string, Record<string, string>> };
  };

  it('documents SigV4 on /predict and /status, nothing on the public routes, and the allowed aliases', async () => {
    const { handler } = app(irisRegistry());

    const doc = (await call(handler, proxyEvent({ method: 'GET', path: '/openapi.json' })))
      .json as unknown as Doc;

    expect(doc.components.securitySchemes).toEqual({
      sigv4: expect.objectContaining({
        in: 'header',
        name: 'Authorization',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      }),
    });
    expect(doc.paths['/predict']?.post?.security).toEqual([{ sigv4: [] }]);
    expect(doc.paths['/status']?.get?.security).toEqual([{ sigv4: [] }]);
    expect(doc.paths['/health']?.get?.security).toEqual([]);
    expect(doc.paths['/openapi.json']?.get?.security).toEqual([]);
    expect(doc.paths['/predict']?.post?.parameters?.[0]?.schema).toEqual({
      type: 'string',
      enum: ['Production', 'Challenger'],
    });
  });

  it('documents the x-api-key header in api-key mode', async () => {
    const registry = irisRegistry();
    const config = irisPredictConfig({ aliasTtlMs: 60_000, maxRows: 5, maxBodyBytes: 4096 });
    const built = createPredictApp({ ...config, apiAuth: 'api-key' }, { registry, observability: silent() });
    stores.push(built.store);

    const doc = (await call(built.handler, proxyEvent({ method: 'GET', path: '/openapi.json' })))
      .json as unknown as Doc;

    expect(doc.components.securitySchemes).toEqual({
      api_key: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
    });
    expect(doc.paths['/predict']?.post?.security).toEqual([{ api_key: [] }]);
  });
});

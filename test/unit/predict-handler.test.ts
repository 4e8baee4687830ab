import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelStore } from '../../lambdas/core/serving/model-store';
import type { ServableModel } from '../../lambdas/core/serving/servable-model';
import { createPredictApp, type PredictHandler } from '../../lambdas/predict/app';
import { storeEvents } from '../../lambdas/predict/observability';
import { lambdaContext } from '../../localstack/serve/api-gateway-adapter';
import type { InMemoryRegistry } from '../support/in-memory-registry';
import {
  IRIS_FEATURES,
  irisPredictConfig,
  irisRegistry,
  proxyEvent,
  SETOSA,
  VIRGINICA,
} from '../support/predict-model-fixture';

interface Emf {
  _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

let registry: InMemoryRegistry;
let store: ModelStore;
let handler: PredictHandler;
let emitted: Emf[];

beforeEach(() => {
  registry = irisRegistry();
  // The Lambda runtime sets it; Powertools counts a cold start only for on-demand environments.
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  const logger = new Logger({ serviceName: 'predict', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'predict' });
  ({ store, handler } = createPredictApp(
    irisPredictConfig({ aliasTtlMs: 30_000, maxRows: 5, maxBodyBytes: 2048 }),
    {
      registry,
      observability: { logger, metrics },
    },
  ));
  // Powertools writes EMF lines to stdout; collect them to assert the metrics.
  emitted = [];
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    if (text.includes('"_aws"')) {
      for (const line of text.trim().split('\n')) emitted.push(JSON.parse(line) as Emf);
      return true;
    }
    return write(chunk, ...(rest as []));
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  store.close();
});

async function call(
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult & { json: Record<string, unknown> }> {
  const result = await handler(event, lambdaContext('req-1', { functionName: 'predict-test' }));
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
}

const post = (body: unknown, headers?: Record<string, string>) =>
  proxyEvent({
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(headers ? { headers } : {}),
  });

function metricNames(): string[] {
  return emitted.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((metric) => metric.Name)),
  );
}

describe('predict handler', () => {
  it('answers records with the label, class probabilities and the model that answered', async () => {
    const response = await call(post({ instances: [SETOSA, VIRGINICA] }));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json' });
    const { predictions, model } = response.json as {
      predictions: { label: string; probabilities: Record<string, number> }[];
      model: unknown;
    };
    expect(model).toEqual({ name: 'iris', version: '1', alias: 'Production', run_id: 'run-1' });
    expect(predictions.map((p) => p.label)).toEqual(['setosa', 'virginica']);
    expect(Object.keys(predictions[0]?.probabilities ?? {})).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(predictions[0]?.probabilities.setosa).toBeCloseTo(0.9962, 4);
  });

  it("accepts MLflow's dataframe_split shape, base64-encoded by API Gateway", async () => {
    const body = JSON.stringify({
      dataframe_split: { columns: IRIS_FEATURES, data: [[5.1, 3.5, 1.4, 0.2]] },
    });
    const event = { ...post(body), body: Buffer.from(body).toString('base64'), isBase64Encoded: true };

    const response = await call(event);

    expect(response.statusCode).toBe(200);
    expect(response.json.predictions).toMatchObject([{ label: 'setosa' }]);
  });

  it('names the field and row of a bad value in a 400', async () => {
    const response = await call(post({ instances: [SETOSA, { ...SETOSA, petal_width: 'wide' }] }));

    expect(response.statusCode).toBe(400);
    expect(response.json).toEqual({
      error: {
        code: 'INVALID_TYPE',
        message: 'petal_width in row 1 must be a number, got the string "wide"',
        field: 'petal_width',
        row: 1,
      },
    });
  });

  it.each([
    ['non-JSON', 400, 'INVALID_JSON', post('{"instances": [', undefined)],
    ['an empty body', 400, 'EMPTY_BODY', proxyEvent({ body: null })],
    [
      'a body over MAX_BODY_BYTES',
      400,
      'BODY_TOO_LARGE',
      post({ instances: [{ ...SETOSA, pad: 'x'.repeat(3000) }] }),
    ],
    ['more rows than MAX_ROWS', 400, 'TOO_MANY_ROWS', post({ instances: Array(6).fill(SETOSA) })],
    [
      'a form content type',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      post('a=1', { 'Content-Type': 'application/x-www-form-urlencoded' }),
    ],
    ['no content type', 415, 'UNSUPPORTED_MEDIA_TYPE', post({ instances: [SETOSA] }, {})],
    ['an unknown route', 404, 'NOT_FOUND', proxyEvent({ method: 'GET', path: '/predictions' })],
    ['a wrong method', 405, 'METHOD_NOT_ALLOWED', proxyEvent({ method: 'GET', path: '/predict' })],
    ['a malformed alias', 400, 'INVALID_ALIAS', proxyEvent({ body: '{}', query: { alias: 'a b' } })],
  ])('answers %s with %i %s', async (_, status, code, event) => {
    const response = await call(event);

    expect(response.statusCode).toBe(status);
    const { error } = response.json as { error: Record<string, unknown> };
    expect(Object.keys(error).sort()).toEqual(['code', 'field', 'message', 'row']);
    expect(error.code).toBe(code);
    expect(error.message).toEqual(expect.any(String));
  });

  it('reads the content type case-insensitively and with parameters', async () => {
    const response = await call(
      post({ instances: [SETOSA] }, { 'CONTENT-TYPE': 'Application/JSON; charset=utf-8' }),
    );

    expect(response.statusCode).toBe(200);
  });

  it('answers 503 with Retry-After when no model is loadable, on /predict and /ping; /health stays 200', async () => {
    registry.deleteAlias('Production');

    const predictAnswer = await call(post({ instances: [SETOSA] }));
    const ping = await call(proxyEvent({ method: 'GET', path: '/ping' }));
    const health = await call(proxyEvent({ method: 'GET', path: '/health' }));

    expect(predictAnswer.statusCode).toBe(503);
    expect(predictAnswer.headers).toMatchObject({ 'retry-after': '5' });
    expect(predictAnswer.json).toMatchObject({
      error: {
        code: 'MODEL_UNAVAILABLE',
        message:
          "no model version can be served for alias 'Production': the alias is not set in the registry",
      },
    });
    expect(ping.statusCode).toBe(503);
    expect(ping.json).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: "no model loaded for alias 'Production' yet",
    });
    // Liveness: the process answers, whatever the model.
    expect(health.statusCode).toBe(200);
    expect(health.json).toEqual({
      status: 'ok',
      model: { name: 'iris', version: null, alias: 'Production' },
    });
  });

  it('hides unexpected errors behind a 500 without details', async () => {
    const broken = {
      version: '1',
      compiled: (await store.model()).compiled,
      ref: { runId: 'run-1' },
      predict: async () => {
        throw new TypeError('Cannot read properties of undefined (at /var/task/secret.js:1:1)');
      },
    } as unknown as ServableModel;
    vi.spyOn(store, 'model').mockResolvedValue(broken);

    const response = await call(post({ instances: [SETOSA] }));

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret');
    expect(response.json).toEqual({
      error: { code: 'INTERNAL', message: 'internal error; the request was logged', field: null, row: null },
    });
  });

  it('reports health, alias status and an OpenAPI document of the loaded model', async () => {
    await store.model();

    const health = await call(proxyEvent({ method: 'GET', path: '/health' }));
    const status = await call(proxyEvent({ method: 'GET', path: '/status/' }));
    const openapi = await call(proxyEvent({ method: 'GET', path: '/openapi.json' }));

    expect(health.json).toEqual({ status: 'ok', model: { name: 'iris', version: '1', alias: 'Production' } });
    expect(status.json).toMatchObject({
      status: 'ok',
      model: 'iris',
      aliases: [
        { alias: 'Production', state: 'ok', resolved_version: '1', loaded_version: '1', run_id: 'run-1' },
      ],
    });
    expect(openapi.json.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.json.paths as object)).toEqual([
      '/predict',
      '/invocations',
      '/ping',
      '/health',
      '/status',
      '/openapi.json',
    ]);
    const schemas = (openapi.json.components as { schemas: { Record: { required: string[] } } }).schemas;
    expect(schemas.Record.required).toEqual(IRIS_FEATURES);
  });

  it('answers /ping 200 once the model is loaded', async () => {
    await store.model();

    const ping = await handler(proxyEvent({ method: 'GET', path: '/ping' }), lambdaContext('req-2'));

    expect(ping.statusCode).toBe(200);
  });

  it('emits request, latency, served-version, cold-start and error metrics', async () => {
    await call(post({ instances: [SETOSA] }));
    await call(post({ instances: [{ ...SETOSA, petal_width: null }] }));

    expect(metricNames()).toEqual(
      expect.arrayContaining(['ColdStart', 'Requests', 'Latency', 'ServedModelVersion', 'Errors']),
    );
    const served = emitted.find((line) => 'ServedModelVersion' in line);
    expect(served).toMatchObject({ ServedModelVersion: 1, Alias: 'Production', Requests: 1 });
    const errors = emitted.find((line) => 'Errors' in line);
    expect(errors).toMatchObject({ Errors: 1, Code: 'INVALID_TYPE' });
  });

  it('emits model load and alias failure metrics from the background', async () => {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'predict' });
    const events = storeEvents({ logger: new Logger({ logLevel: 'SILENT' }), metrics });

    events.modelLoaded?.({ version: '1', loadMs: 42, downloadMs: 10 });
    events.aliasResolutionFailed?.({ alias: 'Production', code: 'REGISTRY_UNREACHABLE', message: 'down' });

    expect(emitted).toEqual([
      expect.objectContaining({ ModelLoadTime: 42 }),
      expect.objectContaining({
        AliasResolutionFailures: 1,
        Alias: 'Production',
        Code: 'REGISTRY_UNREACHABLE',
      }),
    ]);
  });
});

describe('POST /invocations (MLflow scoring protocol)', () => {
  const invoke = (body: string, contentType = 'application/json') =>
    call(proxyEvent({ path: '/invocations', body, headers: { 'Content-Type': contentType } }));
  const IRIS_ROW = IRIS_FEATURES.map((name) => SETOSA[name as keyof typeof SETOSA]);

  it('answers every JSON shape and CSV with the graph outputs as records, like mlflow models serve', async () => {
    const bodies = [
      JSON.stringify({ dataframe_split: { columns: IRIS_FEATURES, data: [IRIS_ROW] } }),
      JSON.stringify({ dataframe_records: [SETOSA] }),
      JSON.stringify({ instances: [SETOSA] }),
      JSON.stringify({ inputs: [SETOSA], params: { ignored: 1 } }),
    ];
    const answers = await Promise.all(bodies.map((body) => invoke(body)));
    const csv = await invoke(
      `${IRIS_FEATURES.join(',')}\r\n${IRIS_ROW.join(',')}\r\n`,
      'text/csv; charset=utf-8',
    );

    for (const answer of [...answers, csv]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.headers).toMatchObject({ 'x-model-version': '1' });
      const predictions = answer.json.predictions as Record<string, unknown>[];
      expect(predictions).toHaveLength(1);
      expect(predictions[0]).toMatchObject({ label: 'setosa' });
      // Our rank-1 format: one probability_<class> output per class, a number per row.
      expect(Object.keys(predictions[0] ?? {}).sort()).toEqual([
        'label',
        'probability_setosa',
        'probability_versicolor',
        'probability_virginica',
      ]);
    }
    expect(csv.json).toEqual(answers[0]?.json);
  });

  it("answers MLflow's error body with 400 naming the field, 415 for another media type", async () => {
    const unknownKey = await invoke(JSON.stringify({ rows: [SETOSA] }));
    const badType = await invoke(JSON.stringify({ dataframe_records: [{ ...SETOSA, petal_width: 'wide' }] }));
    const csvRows = await invoke(`${IRIS_FEATURES.join(',')}\n1,2,3\n`, 'text/csv');
    const xml = await handler(
      proxyEvent({ path: '/invocations', body: '<rows/>', headers: { 'Content-Type': 'application/xml' } }),
      lambdaContext('req-3'),
    );
    const latin = await handler(
      proxyEvent({
        path: '/invocations',
        body: '{}',
        headers: { 'Content-Type': 'text/csv; charset=latin-1' },
      }),
      lambdaContext('req-4'),
    );

    expect(unknownKey.statusCode).toBe(400);
    expect(unknownKey.json).toEqual({
      error_code: 'BAD_REQUEST',
      message: expect.stringContaining("'rows'"),
    });
    expect(badType.statusCode).toBe(400);
    expect(badType.json.error_code).toBe('BAD_REQUEST');
    expect(badType.json.message).toContain("field 'petal_width', row 0");
    expect(csvRows.statusCode).toBe(400);
    expect(csvRows.json.message).toContain('CSV row 0 has 3 fields; the header has 4');
    expect(xml.statusCode).toBe(415);
    expect(xml.body).toContain(
      "This predictor only supports the following content types: application/json, text/csv. Got 'application/xml'.",
    );
    expect(latin.statusCode).toBe(415);
    expect(latin.body).toBe('The scoring server only supports UTF-8');
  });

  it('answers 503 with the MLflow error body while no model is loadable', async () => {
    registry.deleteAlias('Production');

    const answer = await invoke(JSON.stringify({ instances: [SETOSA] }));

    expect(answer.statusCode).toBe(503);
    expect(answer.json).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: "no model version can be served for alias 'Production': the alias is not set in the registry",
    });
  });
});

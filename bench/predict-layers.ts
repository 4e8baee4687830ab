/**
 * Where a prediction's CPU time goes, layer by layer, with no HTTP in the way: `bench:predict`
 * runs this as a child process and reports its figures under `handler_layers`. Each layer is
 * called in-process at the benchmark's concurrency, as the API Gateway adapter calls the handler
 * (inside the invocation store, with a Lambda context), and charged the process CPU per call.
 *
 *   core          parse the body, validate it against the signature, run onnxruntime, serialise
 *   routes        + the routes: content type and size checks, routing, the served-version metric
 *   handler       + middy, the Powertools logger's request context, EMF metrics flushed per
 *                   invocation, error mapping: the Lambda handler exactly as deployed
 *   handler_no_emf  the same handler with POWERTOOLS_METRICS_DISABLED (metrics recorded, no EMF
 *                   line serialised or written)
 *
 * Reads MODEL_NAME and MLflow's address from the environment like the handler; prints one JSON
 * line: µs of CPU per call for each layer (the median of several alternating passes).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { installInvokeStore, lambdaContext } from '../localstack/serve/api-gateway-adapter';

const CALLS = Number(process.env.LAYER_CALLS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PASSES = 5;

type Call = (event: APIGatewayProxyEvent, context: Context) => Promise<unknown>;

async function main(): Promise<void> {
  const body = process.env.LAYER_BODY;
  if (!body) throw new Error('LAYER_BODY (the request body) is required');
  // As `npm run serve` runs the handler: a multi-concurrency Lambda environment, env snapshot.
  process.env.AWS_LAMBDA_FUNCTION_NAME ??= 'predict-layers';
  const invokeStore = installInvokeStore();
  process.env = { ...process.env };

  // The deployed handler module itself (its store, logger and metrics); the TTL (the longest the
  // function takes, an hour: longer than any run) keeps alias re-resolution out of the measurement.
  process.env.ALIAS_TTL_SECONDS = '3600';
  const { handler, store } = await import('../lambdas/predict/handler');
  const { predict } = await import('../lambdas/core/serving/predict');
  const { loadPredictConfig } = await import('../lambdas/predict/config');
  const { createObservability } = await import('../lambdas/predict/observability');
  const { createRouter } = await import('../lambdas/predict/routes');
  const { createPredictHandler } = await import('../lambdas/predict/app');
  const { maxBodyBytes } = loadPredictConfig();
  await store.model();

  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const withoutEmf = createObservability();
  delete process.env.POWERTOOLS_METRICS_DISABLED;

  const layers: Record<string, Call> = {
    core: async () => JSON.stringify(await predict(store, JSON.parse(body), store.defaultAlias)),
    routes: createRouter({
      store,
      maxBodyBytes,
      metrics: withoutEmf.metrics,
      allowedAliases: [store.defaultAlias],
      apiAuth: 'iam',
    }),
    handler,
    handler_no_emf: createPredictHandler({ store, maxBodyBytes, ...withoutEmf }),
  };
  const event = {
    resource: '/{proxy+}',
    path: '/predict',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;

  const measure = async (call: Call): Promise<number> => {
    let next = 0;
    const started = process.cpuUsage();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < CALLS) {
          const requestId = `layers-${next}`;
          const result = await invokeStore.run(requestId, () => call(event, lambdaContext(requestId)));
          if (typeof result === 'object' && (result as APIGatewayProxyResult).statusCode !== 200) {
            throw new Error(`a layer answered ${JSON.stringify(result).slice(0, 300)}`);
          }
        }
      }),
    );
    const used = process.cpuUsage(started);
    return (used.user + used.system) / CALLS;
  };

  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(layers).map((name) => [name, []]));
  for (const [, call] of Object.entries(layers)) await measure(call); // warm the JIT
  for (let pass = 0; pass < PASSES; pass++) {
    const order = pass % 2 === 0 ? Object.entries(layers) : Object.entries(layers).reverse();
    for (const [name, call] of order) samples[name]?.push(await measure(call));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const result = Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [name, Math.round(median(values) * 10) / 10]),
  );
  store.close();
  process.stderr.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

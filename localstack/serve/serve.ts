/**
 * `npm run serve`: the predict Lambda's handler behind a local HTTP server that speaks API
 * Gateway's REST proxy format, following the serving manifests in the local S3 (it never calls
 * MLflow, so it starts and serves with MLflow stopped).
 *
 *   MODEL_NAME=iris npm run serve        # then: curl -XPOST localhost:3000/predict --aws-sigv4 … -H 'content-type: application/json' -d '{"instances":[...]}'
 *
 * Settings come from the environment (see lambdas/predict/config.ts: MODEL_NAME, MODEL_ALIAS,
 * ALIAS_TTL_SECONDS, MAX_ROWS, MAX_BODY_BYTES); the serving bucket (SERVING_BUCKET), the S3
 * endpoint (AWS_ENDPOINT_URL) and the credentials default to those `npm run local:up` wrote in
 * .local/env. PORT defaults to 3000.
 *
 * Callers authenticate as they do with the deployed API (lambdas/predict/config.ts: API_AUTH):
 * by default /predict and /status need requests signed with SigV4 by the local AWS credentials
 * (`curl --aws-sigv4 "aws:amz:us-east-1:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"`);
 * with API_AUTH=api-key, the key in MLOPS_API_KEY as x-api-key; /invocations likewise. /health,
 * /ping and /openapi.json are public.
 *
 * SERVE_WORKERS=N (default 1) runs N processes sharing the port (node:cluster), the way Lambda
 * runs concurrent requests in separate execution environments: each has its own model store and
 * follows the alias on its own, so `/status` describes the worker that answered.
 *
 * `npm run serve` runs it with `--experimental-async-context-frame` (Node 24's default): the
 * per-invocation store the adapter keeps in an AsyncLocalStorage then costs no promise hooks.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { readEnvFile } from '../services/services';
import { localEnv } from './api-client';
import { createApiGatewayServer, installInvokeStore } from './api-gateway-adapter';
import { requestAuthFromEnv, requestAuthorizer } from './request-auth';

/** Worker processes; a bad value stops the server with a message naming the variable. */
function workerCount(value = process.env.SERVE_WORKERS): number {
  if (value === undefined || value.trim() === '') return 1;
  const count = value.trim() === 'auto' ? availableParallelism() : Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    throw new Error(
      `SERVE_WORKERS must be a whole number from 1 to 256, or 'auto' for one per CPU (got ${JSON.stringify(value)})`,
    );
  }
  return count;
}

/**
 * Forks the workers and keeps them running: a worker that dies after it served is replaced (as
 * Lambda replaces an execution environment); one that dies before it listens (bad settings, no
 * model server) stops the whole server with its exit code, so a misconfiguration is not retried
 * forever. Its own output already said why.
 */
function supervise(workers: number): void {
  let stopping = false;
  let announced = false;
  const listening = new Set<number>();
  const fork = () => cluster.fork();
  cluster.on('listening', (worker, address) => {
    listening.add(worker.id);
    if (!announced) {
      announced = true;
      // The webhook registration and the reconciler run once, here in the primary (serving-sync.ts).
      void import('./serving-sync').then((sync) => sync.startServingSync(address.port, localEnv()));
      console.error(
        `predict API on http://${address.address ?? '127.0.0.1'}:${address.port} with ${workers} workers`,
      );
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (!listening.has(worker.id)) {
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.kill();
      process.exit(code ?? 1);
    }
    listening.delete(worker.id);
    console.error(`worker ${worker.process.pid} ended (${signal ?? `exit ${code}`}); starting another`);
    fork();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {});
    if (alive.length === 0) process.exit(0);
    for (const worker of alive) worker?.kill('SIGTERM');
  };
  // `on`, not `once`: a signal to the process group reaches this process twice (directly and
  // relayed by tsx), and a second one with no listener would kill it mid-shutdown.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (let i = 0; i < workers; i++) fork();
}

async function main(): Promise<void> {
  // The env file fills in what the environment leaves unset; it never overrides.
  for (const [name, value] of Object.entries(readEnvFile() ?? {})) {
    if (process.env[name] === undefined && typeof value === 'string') process.env[name] = value;
  }
  process.env.AWS_LAMBDA_FUNCTION_NAME ??= 'predict-local';
  // As the Lambda runtime sets it: Powertools counts the ColdStart metric only for on-demand starts.
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE ??= 'on-demand';
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be a port number (got ${JSON.stringify(process.env.PORT)})`);
  }

  // Powertools reads AWS_LAMBDA_MAX_CONCURRENCY from process.env on every invocation-scoped
  // access, 23 times a request; process.env reads go through the C environment (~0.5 µs each)
  // where a plain object's take ~20 ns. The environment is complete here and nothing in this
  // process changes it afterwards, so the server reads a snapshot.
  process.env = { ...process.env };

  // As API Gateway checks callers: SigV4 against the local credentials, or the API key.
  const auth = requestAuthFromEnv(process.env);
  // Before the handler loads: it starts loading the model (and emitting metrics) at import.
  installInvokeStore();
  // Imported after the environment is complete: the handler reads its configuration at load.
  const { handler, store } = await import('../../lambdas/predict/handler');
  // POST /webhooks/mlflow beside the predict routes, public as on the stack's API (serving-sync.ts).
  const sync = await import('./serving-sync');
  const server = createApiGatewayServer(sync.withWebhookRoute(handler), {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    onHandlerError: (error) => console.error('handler failed:', error),
    authorize: sync.webhookIsPublic(requestAuthorizer(auth)),
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, process.env.HOST ?? '127.0.0.1', resolve));
  const { address, port: bound } = server.address() as AddressInfo;
  if (cluster.isPrimary) void sync.startServingSync(bound);
  const checks =
    auth.mode === 'iam'
      ? `SigV4 (${auth.region}/execute-api, key ${auth.credentials.accessKeyId})`
      : 'the API key in MLOPS_API_KEY';
  const serving = `serving '${store.modelName}' @ ${store.defaultAlias} (manifests in s3://${process.env.SERVING_BUCKET} at ${process.env.AWS_ENDPOINT_URL ?? 'AWS'}); /predict, /invocations and /status need ${checks}`;
  console.error(
    cluster.isWorker
      ? `worker ${process.pid} ${serving}`
      : `predict API on http://${address}:${bound} ${serving}`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      store.close();
      process.exit(0);
    });
    server.closeAllConnections();
  };
  // `on`, not `once`: a signal to the process group reaches this process twice (directly and
  // relayed by tsx), and a second one with no listener would kill it mid-shutdown.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function start(): Promise<void> {
  const workers = cluster.isPrimary ? workerCount() : 1;
  if (workers > 1) supervise(workers);
  else await main();
}

start().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

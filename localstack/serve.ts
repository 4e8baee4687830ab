/**
 * `npm run serve`: the predict Lambda's handler behind a local HTTP server that speaks API
 * Gateway's REST proxy format, following the local MLflow.
 *
 *   MODEL_NAME=iris npm run serve        # then: curl -XPOST localhost:3000/predict -H 'content-type: application/json' -d '{"instances":[...]}'
 *
 * Settings come from the environment (see lambdas/predict/config.ts: MODEL_NAME, MODEL_ALIAS,
 * ALIAS_TTL_SECONDS, MAX_ROWS, MAX_BODY_BYTES); MLflow's and the S3 endpoint's addresses default
 * to those `npm run local:up` wrote in .local/env. PORT defaults to 3000.
 */
import type { AddressInfo } from 'node:net';
import { createApiGatewayServer, installInvokeStore } from './api-gateway-adapter';
import { readEnvFile } from './services';

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

  // Before the handler loads: it starts loading the model (and emitting metrics) at import.
  installInvokeStore();
  // Imported after the environment is complete: the handler reads its configuration at load.
  const { handler, store } = await import('../lambdas/predict/handler');
  const server = createApiGatewayServer(handler, {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    onHandlerError: (error) => console.error('handler failed:', error),
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, process.env.HOST ?? '127.0.0.1', resolve));
  const { address, port: bound } = server.address() as AddressInfo;
  console.error(
    `predict API on http://${address}:${bound} serving '${store.modelName}' @ ${store.defaultAlias} (MLflow ${process.env.MLFLOW_TRACKING_URI})`,
  );

  const stop = () => {
    server.close(() => {
      store.close();
      process.exit(0);
    });
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

/**
 * The predict API as `npm run serve` runs it (the Lambda's handler behind the API Gateway
 * adapter), started in this process on a free port, plus the HTTP calls the demo makes to it.
 * Like the deployed function it reads the serving manifests in the local S3 (SERVING_BUCKET of
 * .local/env), never MLflow: the demo's promotions publish them.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PRODUCTION_ALIAS } from '../../lambdas/core/settings';
import { createPredictApp } from '../../lambdas/predict/app';
import { loadPredictConfig } from '../../lambdas/predict/config';
import { createObservability } from '../../lambdas/predict/observability';
import { registryFor } from '../../lambdas/predict/registry';
import { apiCallerFromEnv, callApi, localEnv } from '../serve/api-client';
import { createApiGatewayServer, installInvokeStore } from '../serve/api-gateway-adapter';
import { requestAuthFromEnv, requestAuthorizer } from '../serve/request-auth';

export interface PredictApi {
  readonly url: string;
  close(): Promise<void>;
}

export interface PredictAnswer {
  readonly labels: readonly string[];
  readonly version: string;
}

/** Starts the API for `model` @ Production; a 1 s alias TTL so it notices a published move quickly. */
export async function startPredictApi(model: string): Promise<PredictApi> {
  const env = localEnv();
  const config = loadPredictConfig({
    ...env,
    MODEL_NAME: model,
    MODEL_ALIAS: PRODUCTION_ALIAS,
    ALIAS_TTL_SECONDS: '1',
  });
  // Powertools writes EMF metrics to stdout, which `--json` keeps for the summary line.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  installInvokeStore();
  const { handler, store } = createPredictApp(config, {
    registry: registryFor(config, env),
    observability: createObservability({ logLevel: 'ERROR' }),
  });
  // Callers are checked as `npm run serve` and API Gateway check them (SigV4 by default).
  const server: Server = createApiGatewayServer(handler, {
    functionName: 'predict-demo',
    authorize: requestAuthorizer(requestAuthFromEnv(env)),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= stop();
      return closing;
    },
  };

  async function stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    store.close();
  }
}

export async function postPredict(url: string, instances: readonly object[]): Promise<PredictAnswer> {
  // Signed with the local credentials (or keyed with API_AUTH=api-key), as a client in AWS signs.
  const response = await callApi(apiCallerFromEnv(localEnv()), `${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as {
    predictions?: { label: string }[];
    model?: { version: string };
    error?: { message: string };
  };
  if (!response.ok || !body.model || !body.predictions) {
    throw new Error(`POST ${url}/predict answered ${response.status}: ${body.error?.message ?? 'no model'}`);
  }
  return { labels: body.predictions.map((p) => p.label), version: body.model.version };
}

/** Polls /predict until another version than `from` answers; the API is never restarted. */
export async function waitForVersionChange(
  url: string,
  instances: readonly object[],
  from: string,
  timeoutMs: number,
): Promise<PredictAnswer & { waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const answer = await postPredict(url, instances);
    if (answer.version !== from) return { ...answer, waitedMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) {
      throw new Error(`the predict API still served version ${from} after ${timeoutMs / 1000}s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

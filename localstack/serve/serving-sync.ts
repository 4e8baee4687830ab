/**
 * `npm run serve`'s share of the serving manifests' writers, as the deployed stack has them:
 *
 * - the route `POST /webhooks/mlflow` (its own Lambda behind API Gateway on AWS), public at the
 *   API and authenticated by MLflow's HMAC signature (lambdas/serving-sync/webhook.ts);
 * - in the primary process, the MLflow webhook registered at start (by name, so a restart updates
 *   it to this process's URL) and the reconciler every SERVING_RECONCILE_SECONDS (default 60).
 *
 * The HMAC secret is MLFLOW_WEBHOOK_SECRET, else the one generated once into the state directory
 * (localstack/services/mlflow-webhook-keys.ts). SERVING_WEBHOOK=off skips the registration (and
 * removes a webhook left by an earlier start), so only the reconciler follows alias moves.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mlflowClientOptionsFromEnv } from '../../lambdas/core/mlflow';
import { MlflowWebhooks } from '../../lambdas/serving-sync/mlflow-webhooks';
import { reconcile } from '../../lambdas/serving-sync/reconcile';
import { publisherFor, type SyncContext, syncContextFrom } from '../../lambdas/serving-sync/sync-config';
import { createWebhookHandler, WEBHOOK_PATH, type WebhookHandler } from '../../lambdas/serving-sync/webhook';
import { localDir } from '../services/local-paths';
import { MLFLOW_ADMIN_USER, readMlflowCredentials } from '../services/mlflow-auth';
import { ensureWebhookKeys } from '../services/mlflow-webhook-keys';
import type { ProxyHandler } from './api-gateway-adapter';
import type { Authorizer } from './request-auth';

export const LOCAL_WEBHOOK_NAME = 'mlops-local-serve';

type Log = (line: string) => void;

/** The webhook's HMAC secret locally: MLFLOW_WEBHOOK_SECRET, else the generated one. */
export function localWebhookSecret(env: NodeJS.ProcessEnv = process.env): string {
  return env.MLFLOW_WEBHOOK_SECRET || ensureWebhookKeys(localDir(env)).secret;
}

/** Whether this environment can sync manifests at all (a serving bucket and a model). */
function syncContextOrNull(env: NodeJS.ProcessEnv, log: Log): SyncContext | null {
  try {
    return syncContextFrom(env);
  } catch (error) {
    log(`serving sync off: ${(error as Error).message}`);
    return null;
  }
}

/** The predict handler with `POST /webhooks/mlflow` routed to the webhook receiver. */
export function withWebhookRoute(
  handler: ProxyHandler,
  env: NodeJS.ProcessEnv = process.env,
  log: Log = (line) => console.error(line),
): ProxyHandler {
  const context = syncContextOrNull(env, log);
  if (!context) return handler;
  let receiver: WebhookHandler | undefined;
  return (event: APIGatewayProxyEvent, lambdaContext) => {
    if (event.path !== WEBHOOK_PATH) return handler(event, lambdaContext);
    receiver ??= createWebhookHandler({
      ...context,
      secret: localWebhookSecret(env),
      publish: publisherFor(context),
    });
    return receiver(event);
  };
}

const FIRST_PASS_DELAY_MS = 5_000;

/** The authorizer with the webhook route public, as the stack's API has it (the HMAC authenticates). */
export function webhookIsPublic(authorize: Authorizer): Authorizer {
  return (request) =>
    request.path === WEBHOOK_PATH ? Promise.resolve({ ok: true, identity: {} }) : authorize(request);
}

export interface ServingSync {
  /** The registered webhook's id, when registered. */
  readonly webhookId: string | null;
  stop(): void;
}

/**
 * Registers the webhook pointing at `http://127.0.0.1:<port>/webhooks/mlflow` and starts the
 * reconciler. Problems are logged, never fatal: the predict API serves either way.
 */
export async function startServingSync(
  port: number,
  env: NodeJS.ProcessEnv = process.env,
  log: Log = (line) => console.error(line),
): Promise<ServingSync> {
  const context = syncContextOrNull(env, log);
  if (!context) return { webhookId: null, stop: () => undefined };
  const webhookId = await registerLocalWebhook(port, env, log);
  const seconds = Number(env.SERVING_RECONCILE_SECONDS ?? 60);
  const periodMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
  const publish = publisherFor(context);
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const summary = await reconcile({ ...context, publish });
      const changed = summary.models.flatMap((entry) =>
        entry.aliases
          .filter(
            (alias) => alias.action === 'written' || alias.action === 'deleted' || alias.action === 'failed',
          )
          .map(
            (alias) =>
              `${entry.model}@${alias.alias} ${alias.action}${alias.version ? ` v${alias.version}` : ''}${alias.error ? `: ${alias.error}` : ''}`,
          ),
      );
      const failedModels = summary.models
        .filter((entry) => entry.error)
        .map((entry) => `${entry.model}: ${entry.error}`);
      if (changed.length > 0 || failedModels.length > 0)
        log(`reconciler: ${[...changed, ...failedModels].join('; ')}`);
    } catch (error) {
      log(`reconciler failed: ${(error as Error).message}`);
    } finally {
      running = false;
    }
  };
  // The first pass waits a few seconds: it must not compete with the API's cold start (the model's
  // first load, the first requests), and the writers publish the moves they make themselves.
  const first = setTimeout(() => void tick(), Math.min(periodMs, FIRST_PASS_DELAY_MS));
  first.unref();
  const timer = setInterval(() => void tick(), periodMs);
  timer.unref();
  log(
    `serving sync: reconciler every ${periodMs / 1000} s over ${context.servedModels.join(', ')} into s3://${context.bucket}`,
  );
  return {
    webhookId,
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
      context.s3.destroy();
    },
  };
}

/** Creates or updates the local webhook (admin credentials: MLflow lets only admins manage webhooks). */
async function registerLocalWebhook(port: number, env: NodeJS.ProcessEnv, log: Log): Promise<string | null> {
  const name = env.SERVING_WEBHOOK_NAME?.trim() || LOCAL_WEBHOOK_NAME;
  try {
    const admin = readMlflowCredentials(localDir(env));
    const options = mlflowClientOptionsFromEnv({
      ...env,
      ...(admin && {
        MLFLOW_TRACKING_USERNAME: MLFLOW_ADMIN_USER,
        MLFLOW_TRACKING_PASSWORD: admin.adminPassword,
      }),
    });
    const webhooks = new MlflowWebhooks(options);
    if (env.SERVING_WEBHOOK === 'off') {
      for (const webhook of (await webhooks.list()).filter((found) => found.name === name)) {
        await webhooks.delete(webhook.webhook_id);
      }
      log('serving sync: MLflow webhook off (SERVING_WEBHOOK=off); the reconciler alone follows alias moves');
      return null;
    }
    const url = `http://127.0.0.1:${port}${WEBHOOK_PATH}`;
    const { action, webhook } = await webhooks.ensure({ name, url, secret: localWebhookSecret(env) });
    log(`serving sync: MLflow webhook '${name}' ${action} → ${url}`);
    return webhook.webhook_id;
  } catch (error) {
    log(
      `serving sync: MLflow webhook not registered (${(error as Error).message}); the reconciler still runs`,
    );
    return null;
  }
}

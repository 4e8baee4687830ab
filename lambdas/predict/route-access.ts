/**
 * Who may call which route. The CDK construct (lib/predict-api.ts) and `npm run serve`
 * (localstack/serve/request-auth.ts) both take these lists, so the deployed API and the local
 * one answer the same callers. Kept free of the serving code: the CDK app imports it.
 */

/** The routes anyone may call: probes and API clients read them before they hold credentials. */
export const PUBLIC_ROUTES: readonly string[] = ['/health', '/ping', '/openapi.json'];

/** The routes that need the caller's credentials (SigV4, or the API key in api-key mode). */
export const PROTECTED_ROUTES: readonly string[] = ['/predict', '/invocations', '/status'];

/**
 * The reconciler Lambda, run every minute by a schedule: see reconcile.ts. Settings, read at cold
 * start: SERVING_BUCKET, SERVED_MODELS (else MODEL_NAME), MLFLOW_TRACKING_URI with
 * MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD_SECRET_ARN. Returns the summary; throws
 * when something could not be reconciled, so the failure shows in the function's Errors metric.
 */
import { type ReconcileSummary, reconcile } from './reconcile';
import { publisherFor, syncContextFrom } from './sync-config';

const context = syncContextFrom(process.env);

export async function handler(): Promise<ReconcileSummary> {
  const summary = await reconcile({ ...context, publish: publisherFor(context) });
  console.log(JSON.stringify({ reconcile: summary }));
  if (summary.failed > 0) {
    const problems = summary.models.flatMap((entry) => [
      ...(entry.error ? [`${entry.model}: ${entry.error}`] : []),
      ...entry.aliases
        .filter((alias) => alias.error)
        .map((alias) => `${entry.model}@${alias.alias}: ${alias.error}`),
    ]);
    throw new Error(`reconciling failed for ${summary.failed}: ${problems.join('; ')}`);
  }
  return summary;
}

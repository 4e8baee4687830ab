/**
 * Compare Production with its Challenger over a whole inference run: add up the per-object
 * summaries predict-batch wrote, then log agreement rate, label distributions and mean
 * probability gap to an MLflow run in the `inference-<model>` experiment, with the comparison as
 * a JSON artifact (also kept beside the predictions).
 */
import { modelExperiment, pipelineRunSource, runSourceTags } from '../../core/lifecycle/mlflow-native';
import { type KeyValue, keyValues, type MetricInput } from '../../core/mlflow';
import type { ComparePredictionsInput, ComparePredictionsOutput, S3Pointer } from '../step-io';
import { markRunFailed, PIPELINE_RUN_TAG } from '../support/candidate-mlflow-run';
import {
  addUp,
  type BatchSummary,
  batchSummarySchema,
  type ComparisonTotals,
} from '../support/prediction-summary';
import { getJson, listKeys, putJson } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';

export const COMPARISON_ARTIFACT = 'comparison.json';

export function inferenceExperimentName(modelName: string): string {
  return `inference-${modelName}`;
}

export async function comparePredictions(
  input: ComparePredictionsInput,
  context: StepContext,
): Promise<ComparePredictionsOutput> {
  const { output, models } = input;
  if (!models?.production) throw new StepInputError('models.production', 'is required');
  const summaries = await readSummaries(context, output.bucket, `${output.prefix}summaries/`);
  const totals = addUp(summaries);
  const metrics = metricsOf(totals);
  const report: S3Pointer = { bucket: output.bucket, key: `${output.prefix}${COMPARISON_ARTIFACT}` };
  const document = {
    runId: input.runId,
    models,
    ...totals,
    batches: summaries.map((s) => ({ object: s.object, rows: s.rows, rejectedRows: s.rejectedRows })),
  };
  await putJson(context.s3, report, document);

  const mlflow = context.mlflow();
  const experiment = await modelExperiment(mlflow, inferenceExperimentName(models.production.name));
  const tags: KeyValue[] = keyValues({
    ...runSourceTags(pipelineRunSource('inference-pipeline', input.runId)),
    [PIPELINE_RUN_TAG]: input.runId,
    'mlops.model.name': models.production.name,
    'mlops.production.version': models.production.version,
    ...(models.challenger ? { 'mlops.challenger.version': models.challenger.version } : {}),
    'mlops.predictions': `s3://${output.bucket}/${output.prefix}`,
  });
  const run = await mlflow.createRun({
    experiment_id: experiment.experiment_id,
    run_name: input.runId,
    tags,
  });
  const mlflowRunId = run.info.run_id;
  try {
    await mlflow.logBatch({
      run_id: mlflowRunId,
      params: keyValues({
        production_version: models.production.version,
        challenger_version: models.challenger?.version ?? 'none',
      }),
      metrics: Object.entries(metrics).map(([key, value]): MetricInput => ({ key, value })),
    });
    await mlflow.writeArtifact(run.info.artifact_uri, COMPARISON_ARTIFACT, JSON.stringify(document, null, 2));
    await mlflow.endRun(mlflowRunId, 'FINISHED');
  } catch (error) {
    await markRunFailed(mlflow, mlflowRunId, 'compare', error);
    throw error;
  }
  return {
    mlflowRunId,
    objects: totals.objects,
    rows: totals.rows,
    agreementRate: totals.agreementRate,
    metrics,
    report,
  };
}

async function readSummaries(context: StepContext, bucket: string, prefix: string): Promise<BatchSummary[]> {
  const keys = (await listKeys(context.s3, bucket, prefix)).filter((key) => key.endsWith('.json'));
  return Promise.all(
    keys.map(async (key) => {
      const parsed = batchSummarySchema.safeParse(await getJson(context.s3, { bucket, key }));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new StepInputError(
          `s3://${bucket}/${key} ${issue?.path.join('.') ?? ''}`.trim(),
          issue?.message ?? 'not a prediction summary',
        );
      }
      return parsed.data;
    }),
  );
}

/** MLflow metric keys: letters, digits, `_ - . / ` and spaces; a label outside that is rewritten. */
function metricKey(text: string): string {
  return text.replace(/[^A-Za-z0-9_\-./ ]/g, '_');
}

export function metricsOf(totals: ComparisonTotals): Record<string, number> {
  const metrics: Record<string, number> = {
    objects: totals.objects,
    rows: totals.rows,
    rejected_rows: totals.rejectedRows,
  };
  if (totals.agreementRate !== null) metrics.agreement_rate = totals.agreementRate;
  if (totals.meanProbabilityGap !== null) metrics.mean_probability_gap = totals.meanProbabilityGap;
  for (const [label, share] of Object.entries(totals.labelShares.production))
    metrics[`production_label_share.${metricKey(label)}`] = share;
  for (const [label, share] of Object.entries(totals.labelShares.challenger ?? {}))
    metrics[`challenger_label_share.${metricKey(label)}`] = share;
  return metrics;
}

/**
 * The readable summary of a pipeline's output (stdout of `mlops run` without --json). The shapes
 * are the ASL files' last states (stepfunctions/README.md); an output of another shape (a changed
 * definition, a state machine of one's own with --state-machine-arn) is printed as JSON.
 */
import type {
  ComparePredictionsOutput,
  ComputeDriftOutput,
  DatasetRef,
  ModelVersionRef,
  RegisteredModel,
  S3Pointer,
  S3Prefix,
  SendDriftAlertOutput,
  SucceededCandidate,
} from '../../lambdas/steps/step-io';
import type { PipelineName } from '../../lib/state-machine-substitutions';
import { table } from './output';

export function renderRunOutput(pipeline: PipelineName, output: unknown): string {
  const rendered = RENDERERS[pipeline](output);
  return rendered ?? JSON.stringify(output, null, 2);
}

const RENDERERS: Readonly<Record<PipelineName, (output: unknown) => string | undefined>> = {
  data: renderData,
  training: renderTraining,
  inference: renderInference,
  monitoring: renderMonitoring,
};

function renderData(output: unknown): string | undefined {
  if (!has(output, 'dataset', 'created') || !has(output.dataset, 'name', 'version', 'manifest'))
    return undefined;
  const dataset = output.dataset as unknown as DatasetRef;
  const what = output.created
    ? 'published'
    : 'already published (same content, same version): nothing new written';
  return [
    `dataset ${dataset.name} version ${dataset.version} ${what}, ${dataset.rowCount} valid rows`,
    table(
      ['object', 'location'],
      (['manifest', 'train', 'test', 'reference'] as const).map((part) => [part, s3Uri(dataset[part])]),
    ),
  ].join('\n');
}

function renderTraining(output: unknown): string | undefined {
  if (!has(output, 'registered', 'best', 'ranking', 'dataset')) return undefined;
  const registered = output.registered as unknown as RegisteredModel;
  const best = output.best as unknown as SucceededCandidate;
  const dataset = output.dataset as unknown as DatasetRef;
  const ranking = Array.isArray(output.ranking)
    ? (output.ranking as { candidateId: string; value: number }[])
    : [];
  return [
    `registered ${registered.name} version ${registered.version} from MLflow run ${registered.mlflowRunId} (candidate ${best.candidateId}, ${best.algorithm})`,
    `dataset ${dataset.name} ${dataset.version} (${dataset.rowCount} rows), pipeline run ${String((output as { runId?: unknown }).runId ?? '?')}`,
    table(
      ['  candidate', 'score'],
      ranking.map((entry) => [
        `${entry.candidateId === best.candidateId ? '*' : ' '} ${entry.candidateId}`,
        number(entry.value),
      ]),
    ),
  ].join('\n');
}

function renderInference(output: unknown): string | undefined {
  if (has(output, 'comparison', 'models', 'output')) {
    const comparison = output.comparison as unknown as ComparePredictionsOutput;
    const models = output.models as unknown as {
      production: ModelVersionRef;
      challenger: ModelVersionRef | null;
    };
    const shadow = models.challenger
      ? `; shadow ${models.challenger.name} v${models.challenger.version} (${models.challenger.alias}) agreed on ${percent(comparison.agreementRate)} of the rows`
      : '; no Challenger to shadow';
    return [
      `scored ${comparison.rows} rows in ${comparison.objects} object(s) with ${models.production.name} v${models.production.version} (${models.production.alias})${shadow}`,
      `predictions in ${s3Uri(output.output as unknown as S3Prefix)}`,
      `comparison logged to MLflow run ${comparison.mlflowRunId}`,
    ].join('\n');
  }
  // NothingToScore ends the run with the state as it was: the plan says where it looked.
  if (has(output, 'plan') && has(output.plan, 'objectCount', 'input') && output.plan.objectCount === 0) {
    return `nothing to score: no data objects under ${s3Uri(output.plan.input as unknown as S3Prefix)}`;
  }
  return undefined;
}

function renderMonitoring(output: unknown): string | undefined {
  if (!has(output, 'drift', 'alert')) return undefined;
  const drift = output.drift as unknown as ComputeDriftOutput;
  const alert = output.alert as unknown as SendDriftAlertOutput;
  const verdict =
    drift.value === null
      ? `drift unknown: no ${drift.metric} could be computed`
      : drift.drifted
        ? `drift detected: ${drift.metric} ${number(drift.value)} > threshold ${number(drift.threshold)} (${drift.driftedColumns.join(', ')})`
        : `no drift: ${drift.metric} ${number(drift.value)} <= threshold ${number(drift.threshold)}`;
  const model = `${drift.modelName}${drift.modelVersion ? ` v${drift.modelVersion}` : ''}`;
  const sent =
    alert.decision === 'none'
      ? 'alert: none'
      : `alert: ${alert.decision} e-mail sent${alert.messageId ? ` (message ${alert.messageId})` : ''}`;
  return [
    verdict,
    `model ${model}, MLflow run ${drift.mlflowRunId}${drift.reportUrl ? `, report ${drift.reportUrl}` : ''}`,
    `statistics in ${s3Uri(drift.report)}`,
    sent,
  ].join('\n');
}

function has<K extends string>(value: unknown, ...keys: K[]): value is Record<K, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    keys.every((key) => (value as Record<string, unknown>)[key] !== undefined)
  );
}

function s3Uri(location: S3Pointer | S3Prefix | undefined): string {
  if (!location) return '-';
  return `s3://${location.bucket}/${'key' in location ? location.key : location.prefix}`;
}

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

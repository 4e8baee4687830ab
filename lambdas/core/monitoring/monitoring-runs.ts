/**
 * Finding monitoring runs in MLflow after the fact (`mlops drift report`): the newest run of one
 * model's monitoring experiment, or of every `monitoring-*` experiment, with its verdict, its
 * headline numbers and its full drift result.
 */
import { z } from 'zod';
import { type Experiment, MlflowApiError, type MlflowClient, type Run } from '../mlflow';
import {
  DRIFT_REPORT_ARTIFACT,
  DRIFT_RESULT_ARTIFACT,
  MONITORING_KIND,
  MONITORING_TAGS,
  monitoringExperimentName,
  runArtifactUiUrl,
} from './monitoring-tracking';

export type MonitoringRunsClient = Pick<
  MlflowClient,
  'trackingUri' | 'getExperimentByName' | 'searchRuns' | 'readArtifact'
>;

/** Lists the experiments whose names start with `monitoring-`. */
export type MonitoringExperimentLister = () => Promise<Experiment[]>;

/** `experiments/search` for `name LIKE 'monitoring-%'`, every page. */
export function monitoringExperimentLister(
  client: Pick<MlflowClient, 'searchExperiments'>,
): MonitoringExperimentLister {
  return async () => {
    const experiments: Experiment[] = [];
    let pageToken: string | undefined;
    do {
      const page = await client.searchExperiments({
        filter: "name LIKE 'monitoring-%'",
        max_results: 1000,
        view_type: 'ACTIVE_ONLY',
        ...(pageToken && { page_token: pageToken }),
      });
      experiments.push(...page.experiments);
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return experiments;
  };
}

/** A drift result as read back from a run's `drift_result.json` (fields checked loosely). */
const StoredDriftResultSchema = z.looseObject({
  columns: z.record(z.string(), z.looseObject({})),
  share_drifted: z.number().nullable(),
  drift_metric: z.string(),
  value: z.number().nullable(),
  threshold: z.number(),
  drifted: z.boolean(),
  notes: z.array(z.string()).default([]),
});
export type StoredDriftResult = z.output<typeof StoredDriftResultSchema>;

export interface MonitoringRunSummary {
  readonly runId: string;
  readonly experimentId: string;
  readonly runName: string | null;
  /** ISO 8601 start of the run (the monitoring run's clock). */
  readonly startedAt: string | null;
  readonly status: string;
  readonly modelName: string | null;
  readonly modelVersion: string | null;
  /** `drifted`, `stable` or `unknown`, as tagged. */
  readonly verdict: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly artifactUri: string;
  /** The MLflow UI page of the run's report. */
  readonly reportUrl: string;
  /** The run's full drift result; null when its artifact is missing or unreadable. */
  readonly result: StoredDriftResult | null;
}

export interface LatestMonitoringRunQuery {
  /** One model's experiment (`monitoring-<model>`); every monitoring experiment when left out. */
  readonly modelName?: string;
  /** @default `monitoring-<modelName>` */
  readonly experimentName?: string;
}

async function experimentIds(
  client: MonitoringRunsClient,
  query: LatestMonitoringRunQuery,
  listExperiments: MonitoringExperimentLister | undefined,
): Promise<string[]> {
  const name =
    query.experimentName ??
    (query.modelName !== undefined ? monitoringExperimentName(query.modelName) : undefined);
  if (name !== undefined) {
    try {
      return [(await client.getExperimentByName(name)).experiment_id];
    } catch (error) {
      if (error instanceof MlflowApiError && error.isNotFound) return [];
      throw error;
    }
  }
  if (!listExperiments) return [];
  return (await listExperiments()).map((experiment) => experiment.experiment_id);
}

async function storedResult(
  client: MonitoringRunsClient,
  artifactUri: string,
): Promise<StoredDriftResult | null> {
  try {
    const text = new TextDecoder().decode(await client.readArtifact(artifactUri, DRIFT_RESULT_ARTIFACT));
    const parsed = StoredDriftResultSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    // Older or foreign runs may lack it; the run's metrics still carry the numbers.
    return null;
  }
}

function summarize(
  client: MonitoringRunsClient,
  run: Run,
  result: StoredDriftResult | null,
): MonitoringRunSummary {
  const tag = (key: string) => run.data.tags.find((t) => t.key === key)?.value ?? null;
  return {
    runId: run.info.run_id,
    experimentId: run.info.experiment_id,
    runName: run.info.run_name ?? null,
    startedAt: run.info.start_time !== undefined ? new Date(run.info.start_time).toISOString() : null,
    status: run.info.status,
    modelName: tag(MONITORING_TAGS.modelName),
    modelVersion: tag(MONITORING_TAGS.modelVersion),
    verdict: tag(MONITORING_TAGS.verdict),
    metrics: Object.fromEntries(run.data.metrics.map((metric) => [metric.key, metric.value])),
    artifactUri: run.info.artifact_uri,
    reportUrl: runArtifactUiUrl(
      client.trackingUri,
      run.info.experiment_id,
      run.info.run_id,
      DRIFT_REPORT_ARTIFACT,
    ),
    result,
  };
}

/** The newest monitoring run (by start time) matching the query, or null when there is none. */
export async function findLatestMonitoringRun(
  client: MonitoringRunsClient,
  query: LatestMonitoringRunQuery = {},
  listExperiments?: MonitoringExperimentLister,
): Promise<MonitoringRunSummary | null> {
  const ids = await experimentIds(client, query, listExperiments);
  if (ids.length === 0) return null;
  const page = await client.searchRuns({
    experiment_ids: ids,
    filter: `tags."${MONITORING_TAGS.kind}" = '${MONITORING_KIND}'`,
    order_by: ['attributes.start_time DESC'],
    max_results: 1,
  });
  const run = page.runs[0];
  if (!run) return null;
  return summarize(client, run, await storedResult(client, run.info.artifact_uri));
}

/** The run's HTML report. */
export async function readMonitoringReport(
  client: MonitoringRunsClient,
  run: Pick<MonitoringRunSummary, 'artifactUri'>,
): Promise<Uint8Array> {
  return client.readArtifact(run.artifactUri, DRIFT_REPORT_ARTIFACT);
}

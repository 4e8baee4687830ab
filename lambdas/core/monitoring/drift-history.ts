/**
 * The history of monitoring runs in S3: one JSON Lines object per run under a date partition,
 * `<prefix>/dt=YYYY-MM-DD/run-<YYYYMMDDTHHMMSSmmmZ>.jsonl` (UTC), so Athena or a notebook reads a
 * date range by listing partitions. Each object holds one line per compared column
 * (`"record": "column"`, with every statistic of the drift result) and one summary line last
 * (`"record": "summary"`). Non-finite statistics (a chi-square of +Infinity) are written as null.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DriftResult } from '../drift';

export const DEFAULT_HISTORY_PREFIX = 'monitoring/drift-metrics';

export interface DriftHistoryStore {
  /** Stores one run's lines under `key`; resolves with the object's URI. */
  put(key: string, body: string): Promise<string>;
}

export class S3DriftHistoryStore implements DriftHistoryStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string): Promise<string> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/x-ndjson',
      }),
    );
    return `s3://${this.bucket}/${key}`;
  }
}

/** The object key of the run at `at`: date partition from its UTC day, file name from its instant. */
export function driftHistoryKey(prefix: string, at: Date): string {
  const iso = at.toISOString(); // 2026-01-23T02:30:00.123Z
  const day = iso.slice(0, 10);
  const stamp = iso.replace(/[-:]/g, '').replace('.', ''); // 20260123T023000123Z
  const base = prefix.replace(/\/+$/, '');
  return `${base ? `${base}/` : ''}dt=${day}/run-${stamp}.jsonl`;
}

export interface DriftHistoryContext {
  /** ISO 8601 time of the run. */
  readonly runAt: string;
  readonly modelName: string;
  readonly modelVersion: string | null;
  /** The MLflow run, when one was logged. */
  readonly runId: string | null;
  readonly reportUri: string | null;
  readonly driftedColumns: readonly string[];
}

/** The run's JSON Lines: one line per column, then the summary line; ends with a newline. */
export function driftHistoryLines(result: DriftResult, context: DriftHistoryContext): string {
  const common = {
    run_at: context.runAt,
    model_name: context.modelName,
    model_version: context.modelVersion,
    run_id: context.runId,
  };
  const lines = Object.entries(result.columns).map(([column, drift]) =>
    JSON.stringify({ record: 'column', ...common, column, ...drift }),
  );
  const { columns: _columns, ...summary } = result;
  lines.push(
    JSON.stringify({
      record: 'summary',
      ...common,
      ...summary,
      drifted_columns: context.driftedColumns,
      report_uri: context.reportUri,
    }),
  );
  return `${lines.join('\n')}\n`;
}

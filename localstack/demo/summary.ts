/** What the demo reports: the `--json` line's shape, and the table and links for people. */
import type { DemoNames } from './flow';

export interface DemoSummary {
  readonly names: DemoNames;
  readonly dataset: { rows: number; quarantined: number; version: string };
  /** The last training: the version Production points at when the demo ends. */
  readonly training: { model: string; version: string; candidates: number };
  readonly predict: { ok: boolean; version_before: string; version_after: string; followed_alias: boolean };
  readonly inference: { rows: number };
  readonly monitoring: { drift_metric: string; value: number | null; threshold: number; alert_sent: boolean };
  readonly urls: { mlflow: string; report: string | null; api: string; predictionsPrefix: string };
}

/** The `--json` line: the fields a script or test checks, nothing for people only. */
export function jsonLine(summary: DemoSummary): string {
  const { dataset, training, predict, inference, monitoring } = summary;
  return JSON.stringify({ dataset, training, predict, inference, monitoring });
}

export function summaryTable(summary: DemoSummary, elapsedMs: number): string {
  const { dataset, training, predict, inference, monitoring, urls } = summary;
  const rows: [string, string][] = [
    ['dataset', `${dataset.rows} rows, ${dataset.quarantined} quarantined, version ${dataset.version}`],
    ['training', `${training.model} v${training.version} (best of ${training.candidates} candidates)`],
    [
      'predict API',
      `v${predict.version_before} → v${predict.version_after} without restart: ${predict.followed_alias ? 'yes' : 'NO'}`,
    ],
    ['inference', `${inference.rows} rows scored by Production, shadowed by Challenger`],
    [
      'monitoring',
      `${monitoring.drift_metric} ${monitoring.value} > ${monitoring.threshold}; alert e-mail ${monitoring.alert_sent ? 'sent' : 'NOT sent'}`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    '',
    `summary (${(elapsedMs / 1000).toFixed(1)}s, run suffix ${summary.names.suffix})`,
    ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
    '',
    'open:',
    `  MLflow model     ${urls.mlflow}`,
    `  drift report     ${urls.report ?? '(none)'}`,
    `  predictions      ${urls.predictionsPrefix}`,
    `  SES mailbox      ${process.env.AWS_ENDPOINT_URL}/_aws/ses?email=${encodeURIComponent(summary.names.sender)}`,
    `  predict API      ${urls.api} (stopped; start one with MODEL_NAME=${training.model} npm run serve)`,
    '',
    'the local services keep running; npm run local:down stops them.',
  ].join('\n');
}

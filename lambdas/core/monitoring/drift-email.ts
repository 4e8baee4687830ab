import type { AlertDecision } from './alert-episode';

export interface DriftEmailFacts {
  readonly kind: Exclude<AlertDecision, 'none'>;
  /** ISO 8601 time of the monitoring run. */
  readonly timestamp: string;
  readonly metric: string;
  readonly value: number;
  readonly threshold: number;
  readonly modelName: string;
  readonly modelVersion?: string;
  readonly reportUrl?: string;
  /** Columns that drifted, most drifted first. */
  readonly driftedColumns?: readonly string[];
}

export interface EmailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(4) : String(n));

export function composeDriftEmail(facts: DriftEmailFacts): EmailContent {
  const model = facts.modelVersion ? `${facts.modelName} v${facts.modelVersion}` : facts.modelName;
  const breach = facts.kind === 'breach';
  const subject = breach
    ? `[drift] ${model}: ${facts.metric} ${fmt(facts.value)} is over ${fmt(facts.threshold)}`
    : `[recovered] ${model}: ${facts.metric} ${fmt(facts.value)} is back under ${fmt(facts.threshold)}`;
  const rows: [string, string][] = [
    ['Time', facts.timestamp],
    ['Model', model],
    ['Metric', facts.metric],
    ['Value', fmt(facts.value)],
    ['Threshold', fmt(facts.threshold)],
  ];
  if (facts.driftedColumns && facts.driftedColumns.length > 0) {
    rows.push(['Drifted columns', facts.driftedColumns.join(', ')]);
  }
  const lead = breach
    ? 'The data the model sees has drifted away from its training data.'
    : 'Drift is back under the threshold; the episode is closed.';
  const text = [
    lead,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    ...(facts.reportUrl ? ['', `Drift report: ${facts.reportUrl}`] : []),
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<p>${escapeHtml(lead)}</p>`,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    facts.reportUrl ? `<p><a href="${escapeHtml(facts.reportUrl)}">Open the drift report</a></p>` : '',
    '</body></html>',
  ].join('');
  return { subject, text, html };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

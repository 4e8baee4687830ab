/**
 * The per-run HTML drift report: one self-contained page (inline styles, inline SVG charts, no
 * script, and a Content-Security-Policy that forbids every fetch), so it can be stored in S3 or
 * MLflow and opened anywhere, offline. All text from data or callers is escaped.
 */
import { categoryChanges } from './category-changes';
import { type ColumnDrift, type DriftResult, isColumnError } from './drift-result';
import type { ColumnHistogram } from './histograms';
import { escapeHtml } from './html-escape';
import { formatShare, formatStatistic } from './stat-format';
import { CURRENT_COLOUR, REFERENCE_COLOUR, renderHistogramSvg } from './svg-histogram';

export interface DriftReportMeta {
  /** @default 'Data drift report' */
  readonly title?: string;
  /** When the run happened. @default now */
  readonly generatedAt?: Date | string;
  readonly modelName?: string;
  readonly modelVersion?: string;
  /** What the reference is, e.g. a dataset version. */
  readonly referenceLabel?: string;
  /** What the current window is, e.g. a date range. */
  readonly currentLabel?: string;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d1d1f; background: #f6f7f9; }
main { max-width: 1400px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 12px; }
.meta { color: #555; margin: 0 0 16px; }
.meta span { margin-right: 16px; }
.verdict { border-radius: 8px; padding: 16px 20px; color: #fff; font-size: 1.1rem; }
.verdict.drifted { background: #c0392b; }
.verdict.stable { background: #2e7d32; }
.verdict.unknown { background: #6b7280; }
.verdict strong { font-size: 1.3rem; display: block; margin-bottom: 4px; }
.notes { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 6px; padding: 8px 16px 8px 32px; }
.table-wrap { overflow-x: auto; border: 1px solid #e5e7eb; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 0.8rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 6px 7px; text-align: right; white-space: nowrap; }
th { background: #eef0f4; position: sticky; top: 0; }
td.name, th.name, td.text, th.text { text-align: left; }
td.decided { text-align: left; white-space: normal; min-width: 170px; }
td.error { text-align: left; color: #6b7280; white-space: normal; }
tr.is-drifted td.name { border-left: 4px solid #c0392b; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 8px; font-size: 0.75rem; color: #fff; }
.badge.drifted { background: #c0392b; }
.badge.stable { background: #2e7d32; }
.badge.error { background: #6b7280; }
.legend span { display: inline-block; margin-right: 16px; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin-right: 4px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
svg.histogram { display: block; width: 100%; max-width: 720px; height: auto; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px; }
.card h3 { font-size: 1rem; margin: 0 0 8px; }
.card p { margin: 4px 0; color: #555; font-size: 0.85rem; }
.no-chart { color: #6b7280; }
footer { color: #6b7280; font-size: 0.8rem; margin-top: 32px; }
`;

function badge(column: ColumnDrift): string {
  if (isColumnError(column)) return '<span class="badge error">not compared</span>';
  return column.drifted
    ? '<span class="badge drifted">drifted</span>'
    : '<span class="badge stable">no drift</span>';
}

const TEST_LABEL: Record<string, string> = {
  ks: 'KS p-value',
  chisquare: 'chi-square p-value',
  wasserstein_normed: 'Wasserstein (normed)',
  jensenshannon: 'Jensen–Shannon',
};

function testComparison(column: ColumnDrift): string {
  if (isColumnError(column)) return '';
  const comparator = column.test === 'ks' ? '≤' : column.test === 'chisquare' ? '<' : '≥';
  const holds = column.drifted
    ? comparator
    : column.test === 'ks'
      ? '>'
      : column.test === 'chisquare'
        ? '≥'
        : '<';
  return `${TEST_LABEL[column.test]} ${formatStatistic(column.test_value)} ${holds} ${formatStatistic(column.test_threshold)}`;
}

/** `missing (share)` of one side, e.g. `11 (4.93%)`: missing values are counted, not compared. */
function missing(count: number, present: number): string {
  return count === 0 ? '0' : `${count} (${formatShare(count / (count + present))})`;
}

function statisticsRow(name: string, column: ColumnDrift): string {
  const cells = [
    `<td class="name">${escapeHtml(name)}</td>`,
    `<td class="text">${escapeHtml(column.role)}</td>`,
    `<td class="text">${escapeHtml(column.kind)}</td>`,
    `<td class="text">${badge(column)}</td>`,
  ];
  if (isColumnError(column)) {
    cells.push(`<td class="error" colspan="11">${escapeHtml(column.error)}</td>`);
  } else {
    const numeric = column.kind === 'numeric' ? column : undefined;
    cells.push(
      `<td class="decided">${escapeHtml(testComparison(column))}</td>`,
      `<td>${formatStatistic(numeric?.ks_statistic)}</td>`,
      `<td>${formatStatistic(numeric?.ks_pvalue)}</td>`,
      `<td>${formatStatistic(numeric?.psi)}</td>`,
      `<td>${formatStatistic(numeric?.wasserstein)}</td>`,
      `<td>${formatStatistic(numeric?.wasserstein_normed)}</td>`,
      `<td>${formatStatistic(column.jensenshannon)}</td>`,
      `<td>${formatStatistic(column.chi2_statistic)}</td>`,
      `<td>${formatStatistic(column.chi2_pvalue)}</td>`,
      `<td>${column.reference_rows} / ${column.current_rows}</td>`,
      `<td>${missing(column.reference_missing, column.reference_rows)} / ${missing(column.current_missing, column.current_rows)}</td>`,
    );
  }
  return `<tr${!isColumnError(column) && column.drifted ? ' class="is-drifted"' : ''}>${cells.join('')}</tr>`;
}

function verdict(result: DriftResult): string {
  const metric = escapeHtml(result.drift_metric);
  const value =
    result.drift_metric === 'share_drifted' ? formatShare(result.value) : formatStatistic(result.value);
  const threshold =
    result.drift_metric === 'share_drifted'
      ? formatShare(result.threshold)
      : formatStatistic(result.threshold);
  const share =
    result.features_compared > 0
      ? `${result.features_drifted} of ${result.features_compared} features drifted`
      : 'no feature could be compared';
  const predictions =
    result.prediction_drifted === null
      ? ''
      : result.prediction_drifted
        ? '; predictions drifted'
        : '; predictions stable';
  if (result.value === null) {
    return `<section class="verdict unknown"><strong>Drift unknown</strong>${metric}: no value (${escapeHtml(
      share,
    )})</section>`;
  }
  return `<section class="verdict ${result.drifted ? 'drifted' : 'stable'}"><strong>${
    result.drifted ? 'Drift detected' : 'No drift'
  }</strong>${metric} = ${escapeHtml(value)} ${result.drifted ? '&gt;' : '≤'} threshold ${escapeHtml(threshold)} · ${escapeHtml(
    share + predictions,
  )}</section>`;
}

function chartCard(name: string, column: ColumnDrift | undefined, histogram: ColumnHistogram): string {
  const summary = column && !isColumnError(column) ? testComparison(column) : column?.error;
  const changes = column ? categoryChanges(column) : '';
  return `<section class="card"><h3>${escapeHtml(name)} ${column ? badge(column) : ''}</h3>${
    summary ? `<p>${escapeHtml(summary)}</p>` : ''
  }${changes ? `<p>${escapeHtml(changes)}</p>` : ''}${renderHistogramSvg(name, histogram)}</section>`;
}

/** Renders the report page for one drift run. */
export function renderDriftReport(
  result: DriftResult,
  histograms: Readonly<Record<string, ColumnHistogram>>,
  meta: DriftReportMeta = {},
): string {
  const title = meta.title ?? 'Data drift report';
  const generatedAt =
    meta.generatedAt === undefined
      ? new Date().toISOString()
      : meta.generatedAt instanceof Date
        ? meta.generatedAt.toISOString()
        : meta.generatedAt;
  const metaItems = [
    `Generated ${generatedAt}`,
    ...(meta.modelName
      ? [`Model ${meta.modelName}${meta.modelVersion ? ` v${meta.modelVersion}` : ''}`]
      : []),
    ...(!meta.modelName && meta.modelVersion ? [`Model version ${meta.modelVersion}`] : []),
    `Reference ${meta.referenceLabel ? `${meta.referenceLabel}, ` : ''}${result.reference_rows} rows`,
    `Current ${meta.currentLabel ? `${meta.currentLabel}, ` : ''}${result.current_rows} rows`,
  ];
  const names = Object.keys(result.columns);
  const charted = [...names, ...Object.keys(histograms).filter((name) => !(name in result.columns))].filter(
    (name) => histograms[name] !== undefined,
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${metaItems.map((item) => `<span>${escapeHtml(item)}</span>`).join('')}</p>
${verdict(result)}
${
  result.notes.length > 0
    ? `<h2>Notes</h2><ul class="notes">${result.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`
    : ''
}
<h2>Statistics</h2>
<div class="table-wrap"><table>
<thead><tr><th class="name">Column</th><th class="text">Role</th><th class="text">Type</th><th class="text">Drift</th><th class="text">Decided by</th><th>KS D</th><th>KS p</th><th>PSI</th><th>Wasserstein</th><th>W. normed</th><th>Jensen–Shannon</th><th>χ²</th><th>χ² p</th><th>Rows ref / cur</th><th>Missing ref / cur</th></tr></thead>
<tbody>
${names.map((name) => statisticsRow(name, result.columns[name] as ColumnDrift)).join('\n')}
</tbody>
</table></div>
<h2>Distributions</h2>
<p class="legend"><span><i class="swatch" style="background:${REFERENCE_COLOUR}"></i>reference</span><span><i class="swatch" style="background:${CURRENT_COLOUR}"></i>current</span> Share of each side's values per bin (shared bins).</p>
<div class="charts">
${charted.map((name) => chartCard(name, result.columns[name], histograms[name] as ColumnHistogram)).join('\n')}
</div>
<footer>KS, Wasserstein, Jensen–Shannon and chi-square as scipy computes them; per-column decisions follow Evidently's defaults. PSI over ${escapeHtml(
    String(firstPsiBins(result) ?? 10),
  )} reference-quantile bins.</footer>
</main>
</body>
</html>
`;
}

function firstPsiBins(result: DriftResult): number | undefined {
  for (const column of Object.values(result.columns)) {
    if (!isColumnError(column) && column.kind === 'numeric') return column.psi_bins;
  }
  return undefined;
}

/**
 * A server-rendered SVG bar chart of reference vs current shares per bin (side-by-side bars on
 * shared bins), for the self-contained drift report: no script, no external resources.
 */
import type { ColumnHistogram } from './histograms';
import { escapeHtml } from './html-escape';
import { formatAxisValue, formatShare } from './stat-format';

export const REFERENCE_COLOUR = '#4c78a8';
export const CURRENT_COLOUR = '#f58518';

const WIDTH = 640;
const HEIGHT = 240;
const MARGIN = { left: 52, right: 12, top: 12 };

function truncate(label: string, max: number): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

/** A round step (1, 2, 2.5 or 5 × 10^k) that splits [0, max] into at most five intervals. */
function niceStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** The SVG for one column's histogram, or a short note when there is nothing to draw. */
export function renderHistogramSvg(column: string, histogram: ColumnHistogram): string {
  const bins = histogram.reference.length;
  if (bins === 0 || (histogram.referenceTotal === 0 && histogram.currentTotal === 0)) {
    return '<p class="no-chart">No values to plot.</p>';
  }
  const bottom = histogram.kind === 'categorical' ? 78 : 36;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - bottom;
  const refShares = histogram.reference.map((c) =>
    histogram.referenceTotal ? c / histogram.referenceTotal : 0,
  );
  const curShares = histogram.current.map((c) => (histogram.currentTotal ? c / histogram.currentTotal : 0));
  const step = niceStep(Math.max(...refShares, ...curShares, 1e-9));
  const ticks = Math.ceil(Math.max(...refShares, ...curShares, 1e-9) / step);
  const yMax = step * ticks;
  const slot = plotWidth / bins;
  const y = (share: number) => MARGIN.top + plotHeight - (share / yMax) * plotHeight;

  const binLabel = (k: number) =>
    histogram.kind === 'numeric'
      ? `[${formatAxisValue(histogram.edges[k] as number)}, ${formatAxisValue(histogram.edges[k + 1] as number)}${
          k === bins - 1 ? ']' : ')'
        }`
      : (histogram.categories[k] as string);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="histogram" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(
      `Histogram of ${column}: reference vs current`,
    )}">`,
  );
  // Horizontal grid lines and y-axis labels at round shares.
  for (let tick = 0; tick <= ticks; tick++) {
    const share = step * tick;
    const gy = y(share).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${gy}" y2="${gy}" stroke="#ddd" stroke-width="1"/>`,
      `<text x="${MARGIN.left - 6}" y="${gy}" dy="0.32em" text-anchor="end" font-size="11" fill="#555">${escapeHtml(
        formatShare(share),
      )}</text>`,
    );
  }
  for (let k = 0; k < bins; k++) {
    const x0 = MARGIN.left + k * slot;
    const barWidth = Math.max(slot * 0.4, 0.5);
    const tooltip = `${binLabel(k)}: reference ${formatShare(refShares[k])} (${histogram.reference[k]}), current ${formatShare(
      curShares[k],
    )} (${histogram.current[k]})`;
    for (const [offset, share, colour, cls] of [
      [0.1, refShares[k] as number, REFERENCE_COLOUR, 'bar-reference'],
      [0.5, curShares[k] as number, CURRENT_COLOUR, 'bar-current'],
    ] as const) {
      const top = y(share);
      parts.push(
        `<rect class="${cls}" x="${(x0 + slot * offset).toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(
          1,
        )}" height="${(MARGIN.top + plotHeight - top).toFixed(1)}" fill="${colour}"><title>${escapeHtml(tooltip)}</title></rect>`,
      );
    }
  }
  const axisY = MARGIN.top + plotHeight;
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`,
  );
  if (histogram.kind === 'numeric') {
    const ticks = [
      ...new Set([0, Math.round(bins / 4), Math.round(bins / 2), Math.round((3 * bins) / 4), bins]),
    ];
    for (const k of ticks) {
      const tx = (MARGIN.left + k * slot).toFixed(1);
      const anchor = k === 0 ? 'start' : k === bins ? 'end' : 'middle';
      parts.push(
        `<line x1="${tx}" x2="${tx}" y1="${axisY}" y2="${axisY + 4}" stroke="#333"/>`,
        `<text x="${tx}" y="${axisY + 16}" text-anchor="${anchor}" font-size="11" fill="#333">${escapeHtml(
          formatAxisValue(histogram.edges[k] as number),
        )}</text>`,
      );
    }
  } else {
    for (let k = 0; k < bins; k++) {
      const tx = (MARGIN.left + (k + 0.5) * slot).toFixed(1);
      parts.push(
        `<text x="${tx}" y="${axisY + 12}" transform="rotate(-35 ${tx} ${axisY + 12})" text-anchor="end" font-size="11" fill="#333">${escapeHtml(
          truncate(histogram.categories[k] as string, 16),
        )}<title>${escapeHtml(histogram.categories[k] as string)}</title></text>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/** How the drift report prints numbers: short, and honest about Infinity, NaN and tiny p-values. */

export function formatStatistic(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '∞';
  if (value === Number.NEGATIVE_INFINITY) return '-∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4 || magnitude >= 1e6) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

export function formatShare(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${Number((value * 100).toPrecision(3))}%`;
}

/** An axis label: three significant digits, exponent only when it would be long. */
export function formatAxisValue(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e7) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}

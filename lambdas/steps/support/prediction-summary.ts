/**
 * What predict-batch records of each scored object (`<output.prefix>summaries/…json`) and how
 * compare-predictions adds them up: counts and sums only, so the run's totals are exact however
 * the rows were spread over objects, and the Map's results never travel in the state.
 *
 * The probability gap of a row is the total variation distance between the two models' class
 * probabilities, ½ Σ_c |p(c) − q(c)| over the union of their classes: 0 when they agree exactly,
 * 1 when they put all their weight on different classes. For a regressor it is |a − b|.
 */
import { z } from 'zod';
import type { OnnxPrediction } from '../../core/lifecycle/onnx-holdout';

export const SUMMARY_FORMAT = 'mlops-prediction-summary-v1';

const tallySchema = z.object({
  version: z.string(),
  /** Rows per predicted label (empty for a regressor). */
  labelCounts: z.record(z.string(), z.number().int().nonnegative()),
});
export type ModelTally = z.infer<typeof tallySchema>;

export const batchSummarySchema = z.object({
  format: z.literal(SUMMARY_FORMAT),
  object: z.object({ bucket: z.string(), key: z.string() }),
  rows: z.number().int().nonnegative(),
  rejectedRows: z.number().int().nonnegative(),
  production: tallySchema,
  challenger: tallySchema.nullable(),
  /** Rows where both models predict the same label; null without a Challenger or for a regressor. */
  agreements: z.number().int().nonnegative().nullable(),
  /** Σ per-row probability gap; null without a Challenger or without probabilities. */
  gapSum: z.number().nonnegative().nullable(),
});
export type BatchSummary = z.infer<typeof batchSummarySchema>;

export function tallyOf(prediction: OnnxPrediction, version: string): ModelTally {
  const labelCounts: Record<string, number> = {};
  if (prediction.task === 'classification')
    for (const label of prediction.labels) labelCounts[label] = (labelCounts[label] ?? 0) + 1;
  return { version, labelCounts };
}

/** Agreement and gap of two models over the same rows. */
export function comparePair(
  production: OnnxPrediction,
  challenger: OnnxPrediction,
): Pick<BatchSummary, 'agreements' | 'gapSum'> {
  if (production.task === 'regression' || challenger.task === 'regression') {
    if (production.task !== 'regression' || challenger.task !== 'regression')
      return { agreements: null, gapSum: null };
    let gapSum = 0;
    for (let i = 0; i < production.values.length; i++)
      gapSum += Math.abs((production.values[i] as number) - (challenger.values[i] as number));
    return { agreements: null, gapSum };
  }
  let agreements = 0;
  for (let i = 0; i < production.labels.length; i++)
    if (production.labels[i] === challenger.labels[i]) agreements++;
  return { agreements, gapSum: probabilityGapSum(production, challenger) };
}

type Classified = Extract<OnnxPrediction, { task: 'classification' }>;

function probabilityGapSum(a: Classified, b: Classified): number | null {
  if (!a.probabilities || !a.classes || !b.probabilities || !b.classes) return null;
  const classes = [...new Set([...a.classes, ...b.classes])];
  // Column of each class in each model's output, -1 when that model does not know the class.
  const inA = classes.map((name) => a.classes?.indexOf(name) ?? -1);
  const inB = classes.map((name) => b.classes?.indexOf(name) ?? -1);
  const at = (p: Float64Array, width: number, row: number, column: number) =>
    column < 0 ? 0 : (p[row * width + column] as number);
  let sum = 0;
  for (let row = 0; row < a.labels.length; row++) {
    let l1 = 0;
    for (let c = 0; c < classes.length; c++)
      l1 += Math.abs(
        at(a.probabilities, a.classes.length, row, inA[c] as number) -
          at(b.probabilities, b.classes.length, row, inB[c] as number),
      );
    sum += l1 / 2;
  }
  return sum;
}

export interface ComparisonTotals {
  readonly objects: number;
  readonly rows: number;
  readonly rejectedRows: number;
  /** Share of rows where the labels agree; null when any summary has no agreement count. */
  readonly agreementRate: number | null;
  readonly meanProbabilityGap: number | null;
  /** Share of rows per predicted label, per model. */
  readonly labelShares: {
    readonly production: Readonly<Record<string, number>>;
    readonly challenger: Readonly<Record<string, number>> | null;
  };
}

export function addUp(summaries: readonly BatchSummary[]): ComparisonTotals {
  const rows = summaries.reduce((sum, s) => sum + s.rows, 0);
  const rejectedRows = summaries.reduce((sum, s) => sum + s.rejectedRows, 0);
  const scored = summaries.filter((s) => s.rows > 0);
  const total = (pick: (s: BatchSummary) => number | null): number | null => {
    let sum = 0;
    for (const s of scored) {
      const value = pick(s);
      if (value === null) return null;
      sum += value;
    }
    return rows > 0 ? sum / rows : null;
  };
  const withChallenger = scored.length > 0 && scored.every((s) => s.challenger !== null);
  return {
    objects: summaries.length,
    rows,
    rejectedRows,
    agreementRate: withChallenger ? total((s) => s.agreements) : null,
    meanProbabilityGap: withChallenger ? total((s) => s.gapSum) : null,
    labelShares: {
      production: shares(
        scored.map((s) => s.production.labelCounts),
        rows,
      ),
      challenger: withChallenger
        ? shares(
            scored.map((s) => (s.challenger as ModelTally).labelCounts),
            rows,
          )
        : null,
    },
  };
}

function shares(counts: readonly Readonly<Record<string, number>>[], rows: number): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const count of counts)
    for (const [label, n] of Object.entries(count)) sums[label] = (sums[label] ?? 0) + n;
  for (const label of Object.keys(sums)) sums[label] = rows > 0 ? (sums[label] as number) / rows : 0;
  return sums;
}

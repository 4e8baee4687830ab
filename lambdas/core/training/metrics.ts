/**
 * Holdout metrics, with scikit-learn's definitions (sklearn.metrics, 1.9) so that values logged
 * by this project compare with values a Python user computes.
 */
import { TrainingDataError } from './errors';

export type ClassificationMetricName = 'accuracy' | 'f1_macro' | 'log_loss' | 'roc_auc';
export type RegressionMetricName = 'rmse' | 'mae' | 'r2';
export type MetricName = ClassificationMetricName | RegressionMetricName;

/** Which way is better, per metric: what `selectBest` ranks by. */
export const HIGHER_IS_BETTER: Readonly<Record<MetricName, boolean>> = {
  accuracy: true,
  f1_macro: true,
  log_loss: false,
  roc_auc: true,
  rmse: false,
  mae: false,
  r2: true,
};

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(HIGHER_IS_BETTER, name);
}

function checkLengths(
  yTrue: ArrayLike<number>,
  other: ArrayLike<number>,
  otherName: string,
  width = 1,
): void {
  if (yTrue.length === 0)
    throw new TrainingDataError('EMPTY_DATA', 'a metric needs at least one row', 'yTrue');
  if (other.length !== yTrue.length * width) {
    throw new TrainingDataError(
      'SHAPE_MISMATCH',
      `${otherName} has ${other.length} values for ${yTrue.length} rows${width > 1 ? ` × ${width}` : ''}`,
      otherName,
    );
  }
}

/** Share of rows whose predicted class equals the true class. */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred, 'yPred');
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/**
 * Unweighted mean over classes of F1 = 2TP / (2TP + FP + FN), over the classes present in yTrue
 * or yPred (scikit-learn's `f1_score(average='macro')`, whose labels default to that union).
 */
export function f1Macro(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred, 'yPred');
  const counts = new Map<number, { tp: number; fp: number; fn: number }>();
  const entry = (label: number) => {
    let found = counts.get(label);
    if (!found) {
      found = { tp: 0, fp: 0, fn: 0 };
      counts.set(label, found);
    }
    return found;
  };
  for (let i = 0; i < yTrue.length; i++) {
    const truth = yTrue[i] as number;
    const guess = yPred[i] as number;
    if (truth === guess) {
      entry(truth).tp++;
    } else {
      entry(truth).fn++;
      entry(guess).fp++;
    }
  }
  let sum = 0;
  for (const { tp, fp, fn } of counts.values()) sum += (2 * tp) / (2 * tp + fp + fn);
  return sum / counts.size;
}

/**
 * Mean negative log-likelihood of the true class. Probabilities are clipped to [ε, 1 − ε] with
 * ε the float64 machine epsilon, as scikit-learn ≥ 1.5 does (older releases used 1e-15), so a
 * confident mistake costs about 36 instead of Infinity.
 */
export function logLoss(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  classCount: number,
  epsilon = Number.EPSILON,
): number {
  checkLengths(yTrue, probabilities, 'probabilities', classCount);
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const label = yTrue[i] as number;
    if (!(label >= 0 && label < classCount)) {
      throw new TrainingDataError(
        'INVALID_LABEL',
        `label ${label} in row ${i} is not a class index`,
        'yTrue',
        i,
      );
    }
    const p = probabilities[i * classCount + label] as number;
    total -= Math.log(Math.min(1 - epsilon, Math.max(epsilon, p)));
  }
  return total / yTrue.length;
}

/**
 * Area under the ROC curve of a binary problem (labels 0/1, `scores` of class 1): the
 * Mann–Whitney U statistic over n₀·n₁, ties counted as one half (average ranks), which equals
 * scikit-learn's trapezoidal `roc_auc_score`.
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkLengths(yTrue, scores, 'scores');
  const order = Array.from({ length: yTrue.length }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && scores[order[end] as number] === scores[order[start] as number]) end++;
    const averageRank = (start + 1 + end) / 2; // ranks start..end-1 are 1-based start+1..end
    for (let i = start; i < end; i++) {
      const label = yTrue[order[i] as number] as number;
      if (label !== 0 && label !== 1) {
        throw new TrainingDataError(
          'INVALID_LABEL',
          `ROC AUC needs labels 0/1, got ${label}`,
          'yTrue',
          order[i],
        );
      }
      if (label === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = yTrue.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new TrainingDataError(
      'SINGLE_CLASS',
      'ROC AUC is undefined when yTrue holds only one class',
      'yTrue',
    );
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function rmse(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred, 'yPred');
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = (yTrue[i] as number) - (yPred[i] as number);
    sum += d * d;
  }
  return Math.sqrt(sum / yTrue.length);
}

export function mae(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred, 'yPred');
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs((yTrue[i] as number) - (yPred[i] as number));
  return sum / yTrue.length;
}

/**
 * Coefficient of determination 1 − SS_res / SS_tot. With a constant yTrue it is 1 for a perfect
 * prediction and 0 otherwise (scikit-learn's `force_finite`).
 */
export function r2(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred, 'yPred');
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) mean += yTrue[i] as number;
  mean /= yTrue.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const truth = yTrue[i] as number;
    const d = truth - (yPred[i] as number);
    residual += d * d;
    total += (truth - mean) * (truth - mean);
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

export type ClassificationMetrics = Readonly<Record<Exclude<ClassificationMetricName, 'roc_auc'>, number>> & {
  /** Binary problems with both classes in the holdout only. */
  readonly roc_auc?: number;
};
export type RegressionMetrics = Readonly<Record<RegressionMetricName, number>>;

/** accuracy, f1_macro, log_loss, and roc_auc for two classes (when both are in yTrue). */
export function classificationMetrics(
  yTrue: ArrayLike<number>,
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  classCount: number,
): ClassificationMetrics {
  const metrics = {
    accuracy: accuracy(yTrue, labels),
    f1_macro: f1Macro(yTrue, labels),
    log_loss: logLoss(yTrue, probabilities, classCount),
  };
  if (classCount !== 2) return metrics;
  let positives = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === 1) positives++;
  if (positives === 0 || positives === yTrue.length) return metrics;
  const scores = Float64Array.from({ length: yTrue.length }, (_, i) => probabilities[2 * i + 1] as number);
  return { ...metrics, roc_auc: rocAuc(yTrue, scores) };
}

export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  return { rmse: rmse(yTrue, yPred), mae: mae(yTrue, yPred), r2: r2(yTrue, yPred) };
}

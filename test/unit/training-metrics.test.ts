import { describe, expect, it } from 'vitest';
import {
  accuracy,
  classificationMetrics,
  f1Macro,
  logLoss,
  mae,
  r2,
  regressionMetrics,
  rmse,
  rocAuc,
  TrainingDataError,
} from '../../lambdas/core/training';

describe('classification metrics', () => {
  it('accuracy is the share of matching labels', () => {
    expect(accuracy([0, 1, 2, 1], [0, 2, 2, 1])).toBe(0.75);
  });

  it('macro F1 averages per-class 2TP / (2TP + FP + FN)', () => {
    // class 0: TP 1, FP 0, FN 1 → 2/3; class 1: TP 1, FP 1, FN 0 → 2/3; class 2: TP 1, FP 0, FN 0 → 1.
    expect(f1Macro([0, 0, 1, 2], [0, 1, 1, 2])).toBeCloseTo((2 / 3 + 2 / 3 + 1) / 3, 15);
  });

  it('macro F1 counts a class that is only predicted (F1 = 0), as scikit-learn does', () => {
    // class 0: 2TP/(2TP+FN) = 2/3; class 1 never true, predicted once: 0.
    expect(f1Macro([0, 0], [0, 1])).toBeCloseTo((2 / 3 + 0) / 2, 15);
  });

  it('log loss is the mean negative log probability of the true class', () => {
    // scikit-learn's docstring example: ["spam", "ham", "ham", "spam"] with ham = 0, spam = 1.
    const probabilities = [0.1, 0.9, 0.9, 0.1, 0.8, 0.2, 0.35, 0.65];
    const expected = -(Math.log(0.9) + Math.log(0.9) + Math.log(0.8) + Math.log(0.65)) / 4;
    expect(logLoss([1, 0, 0, 1], probabilities, 2)).toBeCloseTo(expected, 15);
    expect(expected).toBeCloseTo(0.21616, 5);
  });

  it('log loss clips a zero probability to machine epsilon instead of answering Infinity', () => {
    expect(logLoss([0], [0, 1], 2)).toBeCloseTo(-Math.log(Number.EPSILON), 12);
    expect(logLoss([0], [0, 1], 2)).toBeCloseTo(36.0437, 4);
  });

  it('ROC AUC is the chance a positive outscores a negative, ties counting one half', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    // Pairs (pos, neg): (0.5, 0.5) ½, (0.5, 0.2) 1, (0.9, 0.5) 1, (0.9, 0.2) 1 → 3.5 / 4.
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
  });

  it('adds roc_auc for two classes only when both are in the holdout', () => {
    const probabilities = [0.8, 0.2, 0.3, 0.7, 0.6, 0.4];
    expect(classificationMetrics([0, 1, 1], [0, 1, 0], probabilities, 2)).toEqual({
      accuracy: 2 / 3,
      f1_macro: (2 / 3 + 2 / 3) / 2,
      log_loss: -(Math.log(0.8) + Math.log(0.7) + Math.log(0.4)) / 3,
      roc_auc: 1,
    });
    expect(classificationMetrics([1, 1, 1], [0, 1, 0], probabilities, 2)).not.toHaveProperty('roc_auc');
  });

  it('names the problem with bad input', () => {
    expect(() => accuracy([], [])).toThrowError(expect.objectContaining({ code: 'EMPTY_DATA' }));
    expect(() => accuracy([0, 1], [0])).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', field: 'yPred' }),
    );
    expect(() => logLoss([0, 1], [1, 0, 0], 2)).toThrowError(TrainingDataError);
    expect(() => logLoss([3], [1, 0], 2)).toThrowError(
      expect.objectContaining({ code: 'INVALID_LABEL', row: 0 }),
    );
    expect(() => rocAuc([1, 1], [0.2, 0.4])).toThrowError(expect.objectContaining({ code: 'SINGLE_CLASS' }));
  });
});

describe('regression metrics', () => {
  // scikit-learn's docstring example for mean_squared_error / r2_score.
  const truth = [3, -0.5, 2, 7];
  const guess = [2.5, 0, 2, 8];

  it('RMSE, MAE and R² match their definitions', () => {
    expect(rmse(truth, guess)).toBeCloseTo(Math.sqrt(0.375), 15);
    expect(mae(truth, guess)).toBe(0.5);
    expect(r2(truth, guess)).toBeCloseTo(0.9486081370449679, 15);
    expect(regressionMetrics(truth, guess)).toEqual({
      rmse: rmse(truth, guess),
      mae: 0.5,
      r2: r2(truth, guess),
    });
  });

  it('R² of a constant target is 1 when predicted exactly and 0 otherwise', () => {
    expect(r2([2, 2, 2], [2, 2, 2])).toBe(1);
    expect(r2([2, 2, 2], [2, 2, 3])).toBe(0);
  });

  it('R² is negative for predictions worse than the mean', () => {
    expect(r2([1, 2, 3], [3, 2, 1])).toBe(-3);
  });
});

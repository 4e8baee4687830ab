import { describe, expect, it } from 'vitest';
import {
  defaultCandidates,
  evaluate,
  holdoutSplit,
  parseCandidateSpec,
  predict,
  type TreeEnsembleModel,
  trainCandidate,
} from '../../lambdas/core/training';
import { friedmanData, linearRegressionData } from '../support/training-fixtures';

const BETA = [2, -1, 0.5, 0, 3];
const linear = holdoutSplit(linearRegressionData(1000, BETA, 0.5, 3), 0.3, 1);
const friedman = holdoutSplit(friedmanData(2000, 5), 0.3, 1);
const regressors = defaultCandidates('regression').map((spec) => [spec.family, spec] as const);

describe('regression trainers', () => {
  it('ridge recovers the coefficients of a linear model (in the original units)', () => {
    const model = trainCandidate(parseCandidateSpec({ name: 'ridge', family: 'ridge' }), linear.train, 0);
    if (model.kind !== 'linear' || !model.scaler) throw new Error('expected a standardised linear model');
    expect(model.link).toBe('identity');
    const { mean, scale } = model.scaler;
    const original = (model.coefficients[0] as number[]).map((w, j) => w / (scale[j] as number));
    original.forEach((value, j) => {
      expect(value).toBeCloseTo(BETA[j] as number, 1);
    });
    // The intercept of the standardised model is the target mean; in original units it is 3.
    const intercept =
      (model.intercepts[0] as number) - original.reduce((sum, w, j) => sum + w * (mean[j] as number), 0);
    expect(intercept).toBeCloseTo(3, 0);
  });

  it('ridge shrinks coefficients as alpha grows', () => {
    const norm = (alpha: number) => {
      const model = trainCandidate(
        parseCandidateSpec({ name: 'r', family: 'ridge', params: { alpha } }),
        linear.train,
        0,
      );
      return model.kind === 'linear' ? Math.hypot(...(model.coefficients[0] as number[])) : Number.NaN;
    };
    expect(norm(1000)).toBeLessThan(0.5 * norm(1));
  });

  it.each(regressors)('%s explains a linear target with noise (holdout R² ≥ 0.95)', (_family, spec) => {
    const metrics = evaluate(trainCandidate(spec, linear.train, 2), linear.test);
    expect(metrics.r2).toBeGreaterThanOrEqual(0.95);
  });

  it.each([
    ['ridge', 0.65, 0.8],
    ['random_forest', 0.8, 1],
    ['gradient_boosting', 0.88, 1],
  ] as const)('%s on Friedman #1 (non-linear) reaches holdout R² in [%s, %s]', (family, low, high) => {
    const spec = defaultCandidates('regression').find((candidate) => candidate.family === family);
    if (!spec) throw new Error(`no default ${family}`);
    const metrics = evaluate(trainCandidate(spec, friedman.train, 2), friedman.test);
    // A linear model cannot capture sin(π x0 x1) and (x2 − ½)²: the trees must beat it.
    expect(metrics.r2).toBeGreaterThanOrEqual(low);
    expect(metrics.r2).toBeLessThanOrEqual(high);
  });

  it('boosting starts from the training mean, and its regression trees have one value per leaf', () => {
    const spec = parseCandidateSpec({ name: 'gb', family: 'gradient_boosting', params: { max_iter: 5 } });
    const model = trainCandidate(spec, friedman.train, 0) as TreeEnsembleModel;
    const mean = friedman.train.y.reduce((a, b) => a + b, 0) / friedman.train.rows;
    expect(model.baseValues[0]).toBeCloseTo(mean, 10);
    expect(model).toMatchObject({ task: 'regression', aggregate: 'sum', postTransform: 'none' });
    expect(model.trees.every((tree) => tree.value.every((value) => value.length <= 1))).toBe(true);
    // max_leaf_nodes = 31 by default.
    expect(model.trees.every((tree) => tree.left.filter((left) => left === -1).length <= 31)).toBe(true);
  });

  it('a forest leaf predicts the mean of its rows: a constant target gives a constant model', () => {
    const data = { ...friedman.train, y: new Float64Array(friedman.train.rows).fill(1e6 + 0.25) };
    const spec = parseCandidateSpec({ name: 'rf', family: 'random_forest', params: { n_estimators: 3 } });
    const model = trainCandidate(spec, data, 0) as TreeEnsembleModel;
    // No split improves a constant target: every tree is a single leaf.
    expect(model.trees.map((tree) => tree.feature.length)).toEqual([1, 1, 1]);
    const prediction = predict(model, friedman.test.x, friedman.test.rows);
    expect(prediction.task === 'regression' && prediction.values[0]).toBeCloseTo(1e6 + 0.25, 6);
  });

  it.each(regressors)('%s gives the identical model JSON for the same seed', (family, defaults) => {
    // A smaller forest: the property does not depend on the tree count.
    const spec =
      family === 'random_forest'
        ? parseCandidateSpec({ name: 'rf', family, params: { n_estimators: 20 } })
        : defaults;
    const a = trainCandidate(spec, friedman.train, 9);
    const b = trainCandidate(spec, friedman.train, 9);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

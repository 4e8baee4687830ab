/**
 * Our trainers and metrics against scikit-learn 1.9 (localstack/.venv), on the same inputs, in
 * one Python process (importing scikit-learn takes seconds). Skipped where the project's Python
 * environment is not installed (npm run setup installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../lambdas/core/seeded-random';
import {
  accuracy,
  f1Macro,
  logLoss,
  mae,
  parseCandidateSpec,
  r2,
  rmse,
  rocAuc,
  trainCandidate,
} from '../../lambdas/core/training';
import { PYTHON } from '../support/project-paths';
import { loadIris } from '../support/training-fixtures';

const SKLEARN_SIDE = `
import json, sys
import numpy as np
from sklearn import metrics
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
d = json.load(sys.stdin)
m = d["metrics"]
x = StandardScaler().fit_transform(np.array(d["iris"]["x"]).reshape(-1, 4))
lr = LogisticRegression(C=0.5, tol=1e-10, max_iter=1000).fit(x, d["iris"]["y"])
print(json.dumps({
  "metrics": {
    "accuracy": metrics.accuracy_score(m["yTrue"], m["yPred"]),
    "f1_macro": metrics.f1_score(m["yTrue"], m["yPred"], average="macro"),
    "log_loss": metrics.log_loss(m["yTrue"], np.array(m["probabilities"])),
    "roc_auc": metrics.roc_auc_score(m["binaryTrue"], m["scores"]),
    "rmse": metrics.root_mean_squared_error(m["target"], m["estimate"]),
    "mae": metrics.mean_absolute_error(m["target"], m["estimate"]),
    "r2": metrics.r2_score(m["target"], m["estimate"]),
  },
  "logistic": {"coef": lr.coef_.tolist(), "intercept": lr.intercept_.tolist()},
}))
`;

interface SklearnAnswers {
  readonly metrics: Record<string, number>;
  readonly logistic: { coef: number[][]; intercept: number[] };
}

/** Random labels, probabilities (with ties in the binary scores) and regression targets. */
function metricInputs() {
  const random = new SeededRandom(99);
  const rows = 200;
  const yTrue = Array.from({ length: rows }, () => random.int(3));
  const probabilities = Array.from({ length: rows }, () => {
    const raw = [random.next(), random.next(), random.next() ** 4];
    const total = raw.reduce((a, b) => a + b, 0);
    return raw.map((value) => value / total);
  });
  const yPred = probabilities.map((row) => row.indexOf(Math.max(...row)));
  const binaryTrue = yTrue.map((label) => (label === 2 ? 1 : 0));
  const scores = probabilities.map((row) => Math.round((row[2] as number) * 20) / 20);
  const target = Array.from({ length: rows }, () => 10 * random.normal());
  const estimate = target.map((value) => value + random.normal());
  return { yTrue, yPred, probabilities, binaryTrue, scores, target, estimate };
}

describe.skipIf(!existsSync(PYTHON))('against scikit-learn', () => {
  const inputs = metricInputs();
  const iris = loadIris();
  let sklearn: SklearnAnswers;

  beforeAll(() => {
    const output = execFileSync(PYTHON, ['-c', SKLEARN_SIDE], {
      input: JSON.stringify({ metrics: inputs, iris: { x: Array.from(iris.x), y: Array.from(iris.y) } }),
      encoding: 'utf8',
    });
    sklearn = JSON.parse(output) as SklearnAnswers;
  });

  it('metrics equal sklearn.metrics on random labels, probabilities and targets', () => {
    const { yTrue, yPred, probabilities, binaryTrue, scores, target, estimate } = inputs;
    const ours = {
      accuracy: accuracy(yTrue, yPred),
      f1_macro: f1Macro(yTrue, yPred),
      log_loss: logLoss(yTrue, probabilities.flat(), 3),
      roc_auc: rocAuc(binaryTrue, scores),
      rmse: rmse(target, estimate),
      mae: mae(target, estimate),
      r2: r2(target, estimate),
    };
    for (const [name, value] of Object.entries(ours)) {
      expect(value, name).toBeCloseTo(sklearn.metrics[name] as number, 12);
    }
  });

  it('multinomial logistic regression finds the same coefficients as LogisticRegression(lbfgs)', () => {
    const spec = parseCandidateSpec({
      name: 'lr',
      family: 'logistic_regression',
      params: { c: 0.5, tol: 1e-10, max_iter: 1000 },
    });
    const model = trainCandidate(spec, iris, 0);
    if (model.kind !== 'linear') throw new Error('expected a linear model');
    model.coefficients.forEach((row, k) => {
      row.forEach((value, j) => {
        expect(value).toBeCloseTo(sklearn.logistic.coef[k]?.[j] as number, 5);
      });
    });
    model.intercepts.forEach((value, k) => {
      expect(value).toBeCloseTo(sklearn.logistic.intercept[k] as number, 5);
    });
  });
});

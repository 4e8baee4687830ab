/**
 * L2-regularised logistic regression on standardised features: multinomial (softmax, one
 * coefficient row per class) for three or more classes, binary (one row, the score of
 * classes[1]) for two.
 *
 * The objective is scikit-learn's (LogisticRegression, lbfgs solver) divided by n, which has
 * the same minimiser and better-scaled numbers:
 *   mean_i loss_i + ||W||² / (2 C n)        (intercepts are not penalised)
 * with loss_i = logsumexp(z_i) - z_i[y_i] (multinomial) or log(1 + e^z_i) - y_i z_i (binary).
 */
import { minimizeLbfgs } from './lbfgs';
import type { LinearModel } from './model-types';
import { applyStandardScaler, fitStandardScaler } from './standard-scaler';
import type { ClassificationData } from './training-data';

export interface LogisticRegressionParams {
  /** Inverse regularisation strength, as scikit-learn's C. */
  readonly c: number;
  readonly max_iter: number;
  /** Stop when the largest gradient component of the (mean) objective is below this. */
  readonly tol: number;
}

export function fitLogisticRegression(
  data: ClassificationData,
  params: LogisticRegressionParams,
): LinearModel {
  const { rows, cols } = data;
  const classCount = data.classes.length;
  const scaler = fitStandardScaler(data);
  const z = applyStandardScaler(scaler, data.x, rows);
  const outputs = classCount === 2 ? 1 : classCount;
  const penalty = 1 / (params.c * rows);
  const objective =
    outputs === 1
      ? binaryObjective(z, data.y, rows, cols, penalty)
      : multinomialObjective(z, data.y, rows, cols, outputs, penalty);
  // θ = [W (outputs × cols, row-major), b (outputs)], starting from zero as scikit-learn does.
  const result = minimizeLbfgs(objective, new Float64Array(outputs * (cols + 1)), {
    gradientTolerance: params.tol,
    maxIterations: params.max_iter,
  });
  const coefficients: number[][] = [];
  for (let k = 0; k < outputs; k++) {
    coefficients.push(Array.from(result.theta.subarray(k * cols, (k + 1) * cols)));
  }
  return {
    kind: 'linear',
    task: 'classification',
    features: [...data.features],
    classes: [...data.classes],
    scaler,
    coefficients,
    intercepts: Array.from(result.theta.subarray(outputs * cols)),
    link: outputs === 1 ? 'logistic' : 'softmax',
  };
}

function binaryObjective(x: Float64Array, y: Int32Array, rows: number, cols: number, penalty: number) {
  return (theta: Float64Array, gradient: Float64Array): number => {
    gradient.fill(0);
    const intercept = theta[cols] as number;
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      const offset = i * cols;
      let score = intercept;
      for (let j = 0; j < cols; j++) score += (theta[j] as number) * (x[offset + j] as number);
      const label = y[i] as number;
      // log(1 + e^s) computed without overflow for large |s|.
      loss +=
        (score > 0 ? score + Math.log1p(Math.exp(-score)) : Math.log1p(Math.exp(score))) - label * score;
      const residual = 1 / (1 + Math.exp(-score)) - label;
      for (let j = 0; j < cols; j++)
        gradient[j] = (gradient[j] as number) + residual * (x[offset + j] as number);
      gradient[cols] = (gradient[cols] as number) + residual;
    }
    let norm = 0;
    for (let j = 0; j < cols; j++) {
      const w = theta[j] as number;
      norm += w * w;
      gradient[j] = (gradient[j] as number) / rows + penalty * w;
    }
    gradient[cols] = (gradient[cols] as number) / rows;
    return loss / rows + 0.5 * penalty * norm;
  };
}

function multinomialObjective(
  x: Float64Array,
  y: Int32Array,
  rows: number,
  cols: number,
  classCount: number,
  penalty: number,
) {
  const scores = new Float64Array(classCount);
  const exps = new Float64Array(classCount);
  const interceptOffset = classCount * cols;
  return (theta: Float64Array, gradient: Float64Array): number => {
    gradient.fill(0);
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      const offset = i * cols;
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < classCount; k++) {
        let score = theta[interceptOffset + k] as number;
        const row = k * cols;
        for (let j = 0; j < cols; j++) score += (theta[row + j] as number) * (x[offset + j] as number);
        scores[k] = score;
        if (score > max) max = score;
      }
      let total = 0;
      for (let k = 0; k < classCount; k++) {
        const e = Math.exp((scores[k] as number) - max);
        exps[k] = e;
        total += e;
      }
      const label = y[i] as number;
      // logsumexp(z) - z[y], shifted by the max so that no exponential overflows.
      loss += Math.log(total) - ((scores[label] as number) - max);
      for (let k = 0; k < classCount; k++) {
        const residual = (exps[k] as number) / total - (k === label ? 1 : 0);
        const row = k * cols;
        for (let j = 0; j < cols; j++)
          gradient[row + j] = (gradient[row + j] as number) + residual * (x[offset + j] as number);
        gradient[interceptOffset + k] = (gradient[interceptOffset + k] as number) + residual;
      }
    }
    let norm = 0;
    for (let p = 0; p < interceptOffset; p++) {
      const w = theta[p] as number;
      norm += w * w;
      gradient[p] = (gradient[p] as number) / rows + penalty * w;
    }
    for (let k = 0; k < classCount; k++) {
      gradient[interceptOffset + k] = (gradient[interceptOffset + k] as number) / rows;
    }
    return loss / rows + 0.5 * penalty * norm;
  };
}

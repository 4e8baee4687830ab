/**
 * Ridge regression on standardised features, in closed form:
 *   w = (ZᵀZ + αI)⁻¹ Zᵀ(y − ȳ),  b = ȳ
 * where Z is the standardised (hence centred) feature matrix, so the intercept is the target
 * mean and is not penalised. Equivalent to scikit-learn's `make_pipeline(StandardScaler(),
 * Ridge(alpha))`.
 *
 * ZᵀZ and Zᵀy are accumulated row by row (Z is never materialised: n × d could be large, the
 * Gram matrix is d × d); ml-matrix's Cholesky decomposition solves the system, which is
 * symmetric positive definite for α > 0.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { LinearModel } from './model-types';
import { fitStandardScaler } from './standard-scaler';
import type { RegressionData } from './training-data';

export interface RidgeParams {
  /** L2 penalty on the standardised coefficients, as scikit-learn's alpha. */
  readonly alpha: number;
}

export function fitRidge(data: RegressionData, params: RidgeParams): LinearModel {
  const { x, y, rows, cols } = data;
  const scaler = fitStandardScaler(data);
  let mean = 0;
  for (let i = 0; i < rows; i++) mean += y[i] as number;
  mean /= rows;
  const gram = new Float64Array(cols * cols);
  const moment = new Float64Array(cols);
  const z = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      z[j] = ((x[i * cols + j] as number) - (scaler.mean[j] as number)) / (scaler.scale[j] as number);
    }
    const target = (y[i] as number) - mean;
    for (let j = 0; j < cols; j++) {
      const zj = z[j] as number;
      moment[j] = (moment[j] as number) + zj * target;
      // Upper triangle only; mirrored below.
      for (let k = j; k < cols; k++)
        gram[j * cols + k] = (gram[j * cols + k] as number) + zj * (z[k] as number);
    }
  }
  const system = new Matrix(cols, cols);
  for (let j = 0; j < cols; j++) {
    for (let k = j; k < cols; k++) {
      const value = (gram[j * cols + k] as number) + (j === k ? params.alpha : 0);
      system.set(j, k, value);
      system.set(k, j, value);
    }
  }
  const weights = new CholeskyDecomposition(system).solve(Matrix.columnVector(Array.from(moment)));
  return {
    kind: 'linear',
    task: 'regression',
    features: [...data.features],
    scaler,
    coefficients: [weights.getColumn(0)],
    intercepts: [mean],
    link: 'identity',
  };
}

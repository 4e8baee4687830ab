/** Fits and applies the StandardScaler of the linear models (same definition as scikit-learn's). */
import type { StandardScaler } from './model-types';
import type { FeatureMatrix } from './training-data';

/**
 * Per-feature mean and population standard deviation (ddof = 0, as scikit-learn). A constant
 * feature gets scale 1, as scikit-learn's `_handle_zeros_in_scale`, so it maps to 0 instead of NaN.
 */
export function fitStandardScaler(data: FeatureMatrix): StandardScaler {
  const { x, rows, cols } = data;
  const mean = new Array<number>(cols).fill(0);
  const scale = new Array<number>(cols).fill(0);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) mean[j] = (mean[j] as number) + (x[i * cols + j] as number);
  }
  for (let j = 0; j < cols; j++) mean[j] = (mean[j] as number) / rows;
  // Two passes: the centred sum of squares does not lose precision to large means.
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const d = (x[i * cols + j] as number) - (mean[j] as number);
      scale[j] = (scale[j] as number) + d * d;
    }
  }
  for (let j = 0; j < cols; j++) {
    const std = Math.sqrt((scale[j] as number) / rows);
    // Near-zero spread is rounding noise (scikit-learn's `_is_constant_feature` uses a bound of the
    // same kind): treat the feature as constant.
    scale[j] = std < 10 * Number.EPSILON * Math.max(1, Math.abs(mean[j] as number)) ? 1 : std;
  }
  return { mean, scale };
}

/** (x - mean) / scale, as a new row-major matrix. */
export function applyStandardScaler(scaler: StandardScaler, x: Float64Array, rows: number): Float64Array {
  const cols = scaler.mean.length;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] =
        ((x[i * cols + j] as number) - (scaler.mean[j] as number)) / (scaler.scale[j] as number);
    }
  }
  return out;
}

/**
 * Row-wise softmax of a row-major score matrix: the multinomial link the trainers fit with and
 * `predict` evaluates, so training and prediction round alike. The row maximum is subtracted
 * before `exp` so large scores do not overflow.
 */
export function softmaxRows(scores: Float64Array, out: Float64Array, rows: number, width: number): void {
  for (let i = 0; i < rows; i++) {
    const offset = i * width;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < width; k++) max = Math.max(max, scores[offset + k] as number);
    let total = 0;
    for (let k = 0; k < width; k++) {
      const e = Math.exp((scores[offset + k] as number) - max);
      out[offset + k] = e;
      total += e;
    }
    for (let k = 0; k < width; k++) out[offset + k] = (out[offset + k] as number) / total;
  }
}

/**
 * Tree thresholds live on the float32 grid: ONNX TreeEnsemble operators compare float32
 * inputs with float32 thresholds, and the TypeScript predictor compares `Math.fround(x)` with
 * the stored threshold, so both send every row the same way.

 * The ONNX exporter re-exports this function, so the two can never disagree.
 */
const float32Bits = new Float32Array(1);
const int32Bits = new Int32Array(float32Bits.buffer);

/**
 * The largest float32 not above `value`. For float32 a < b and a ≤ value < b the result t
 * satisfies a ≤ t < b, so a split at t keeps every training value on the side it was binned to;
 * rounding to nearest instead could lift t to b and flip b's branch.
 */
export function float32AtOrBelow(value: number): number {
  const nearest = Math.fround(value);
  if (nearest <= value) return nearest;
  if (nearest === 0) return -1.401298464324817e-45; // the negative float32 closest to zero
  float32Bits[0] = nearest;
  int32Bits[0] = (int32Bits[0] as number) + (nearest > 0 ? -1 : 1);
  return float32Bits[0] as number;
}

/** Step handler: compares Production and Challenger predictions; logs the comparison to MLflow. */
import type { ComparePredictionsInput, ComparePredictionsOutput } from './contracts';
import { comparePredictions } from './impl';

export async function handler(input: ComparePredictionsInput): Promise<ComparePredictionsOutput> {
  return comparePredictions(input);
}

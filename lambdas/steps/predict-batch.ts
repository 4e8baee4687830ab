/** Step handler: scores one input object with Production, and Challenger in shadow. */
import type { PredictBatchInput, PredictBatchOutput } from './contracts';
import { predictBatch } from './impl';

export async function handler(input: PredictBatchInput): Promise<PredictBatchOutput> {
  return predictBatch(input);
}

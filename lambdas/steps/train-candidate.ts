/** Step handler: trains one candidate and exports it as an MLflow onnx-flavor model directory. */
import type { TrainCandidateInput, TrainCandidateOutput } from './contracts';
import { trainCandidate } from './impl';

export async function handler(input: TrainCandidateInput): Promise<TrainCandidateOutput> {
  return trainCandidate(input);
}

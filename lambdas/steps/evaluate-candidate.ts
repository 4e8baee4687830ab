/** Step handler: scores one trained candidate on the holdout. */
import type { EvaluateCandidateInput, EvaluateCandidateOutput } from './contracts';
import { evaluateCandidate } from './impl';

export async function handler(input: EvaluateCandidateInput): Promise<EvaluateCandidateOutput> {
  return evaluateCandidate(input);
}

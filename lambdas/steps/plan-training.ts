/** Step handler: resolves the dataset version and the candidate grid of a training run. */
import type { PlanTrainingInput, PlanTrainingOutput } from './contracts';
import { planTraining } from './impl';

export async function handler(input: PlanTrainingInput): Promise<PlanTrainingOutput> {
  return planTraining(input);
}

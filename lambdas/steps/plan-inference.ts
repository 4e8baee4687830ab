/** Step handler: finds the newest input batch and pins the Production and Challenger versions. */
import type { PlanInferenceInput, PlanInferenceOutput } from './contracts';
import { planInference } from './impl';

export async function handler(input: PlanInferenceInput): Promise<PlanInferenceOutput> {
  return planInference(input);
}

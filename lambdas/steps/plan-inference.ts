/** Step handler: finds the newest input batch and pins the Production and Challenger versions. */
import { planInference } from './impl/plan-inference';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(planInference);

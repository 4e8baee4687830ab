/** Step handler: finds the newest input batch and pins the Production and Challenger versions. */
import { stepHandler } from '../support/step-handler';
import { planInference } from '../tasks/plan-inference';

export const handler = stepHandler<'plan-inference'>(planInference);

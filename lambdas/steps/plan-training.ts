/** Step handler: resolves the dataset version and the candidate grid of a training run. */
import { planTraining } from './impl/plan-training';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(planTraining);

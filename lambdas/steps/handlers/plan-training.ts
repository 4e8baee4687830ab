/** Step handler: resolves the dataset version and the candidate grid of a training run. */
import { stepHandler } from '../support/step-handler';
import { planTraining } from '../tasks/plan-training';

export const handler = stepHandler<'plan-training'>(planTraining);

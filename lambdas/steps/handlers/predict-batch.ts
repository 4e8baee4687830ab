/** Step handler: scores one input object with Production, and Challenger in shadow. */
import { stepHandler } from '../support/step-handler';
import { predictBatch } from '../tasks/predict-batch';

export const handler = stepHandler<'predict-batch'>(predictBatch);

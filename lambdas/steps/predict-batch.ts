/** Step handler: scores one input object with Production, and Challenger in shadow. */
import { predictBatch } from './impl/predict-batch';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(predictBatch);

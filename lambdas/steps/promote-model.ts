/** Step handler: sets Challenger, or Production when the new version beats it on the same holdout. */
import { promoteModel } from './impl/promote-model';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(promoteModel);

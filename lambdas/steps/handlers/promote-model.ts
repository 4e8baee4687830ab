/** Step handler: sets Challenger, or Production when the new version beats it on the same holdout. */
import { stepHandler } from '../support/step-handler';
import { promoteModel } from '../tasks/promote-model';

export const handler = stepHandler<'promote-model'>(promoteModel);

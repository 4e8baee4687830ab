/** Step handler: registers the best candidate's model as a new version. */
import { stepHandler } from '../support/step-handler';
import { registerModel } from '../tasks/register-model';

export const handler = stepHandler<'register-model'>(registerModel);

/** Step handler: registers the best candidate's model as a new version. */
import { registerModel } from './impl/register-model';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(registerModel);

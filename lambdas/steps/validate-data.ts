/** Step handler: checks every row against the data contract; splits valid from rejected rows. */

import { stepHandler } from './impl/step-handler';
import { validateData } from './impl/validate-data';

export const handler = stepHandler(validateData);

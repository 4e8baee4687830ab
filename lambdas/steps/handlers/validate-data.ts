/** Step handler: checks every row against the data contract; splits valid from rejected rows. */
import { stepHandler } from '../support/step-handler';
import { validateData } from '../tasks/validate-data';

export const handler = stepHandler<'validate-data'>(validateData);

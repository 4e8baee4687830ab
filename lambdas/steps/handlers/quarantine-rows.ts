/** Step handler: writes the rejected rows, with their reasons, to the quarantine bucket. */
import { stepHandler } from '../support/step-handler';
import { quarantineRows } from '../tasks/quarantine-rows';

export const handler = stepHandler<'quarantine-rows'>(quarantineRows);

/** Step handler: writes the rejected rows, with their reasons, to the quarantine bucket. */
import { quarantineRows } from './impl/quarantine-rows';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(quarantineRows);

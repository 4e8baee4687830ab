/** Step handler: e-mails a drift breach or recovery once per episode (SES). */
import { stepHandler } from '../support/step-handler';
import { sendDriftAlert } from '../tasks/send-drift-alert';

export const handler = stepHandler<'send-drift-alert'>(sendDriftAlert);

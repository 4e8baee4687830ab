/** Step handler: e-mails a drift breach or recovery once per episode (SES). */
import { sendDriftAlert } from './impl/send-drift-alert';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(sendDriftAlert);

/** Step handler: e-mails a drift breach or recovery once per episode (SES). */
import type { SendDriftAlertInput, SendDriftAlertOutput } from './contracts';
import { sendDriftAlert } from './impl';

export async function handler(input: SendDriftAlertInput): Promise<SendDriftAlertOutput> {
  return sendDriftAlert(input);
}

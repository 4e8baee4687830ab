import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { EmailContent } from './drift-email';

export interface AlertSender {
  /** Resolves with the provider's message id; rejects when the message was not accepted. */
  send(email: EmailContent): Promise<string>;
}

export class AlertSendError extends Error {
  override name = 'AlertSendError';
}

/**
 * Sends through SESv2 from one verified identity. The SDK retries throttling and 5xx itself;
 * whatever still fails is raised, so the monitoring execution fails visibly (never swallowed)
 * and the episode state is not advanced.
 */
export class SesAlertSender implements AlertSender {
  constructor(
    private readonly ses: SESv2Client,
    private readonly from: string,
    private readonly to: readonly string[],
  ) {}

  async send(email: EmailContent): Promise<string> {
    try {
      const result = await this.ses.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: [...this.to] },
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: email.text, Charset: 'UTF-8' },
                Html: { Data: email.html, Charset: 'UTF-8' },
              },
            },
          },
        }),
      );
      if (!result.MessageId) throw new AlertSendError('SES accepted the request but returned no message id');
      return result.MessageId;
    } catch (err) {
      if (err instanceof AlertSendError) throw err;
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new AlertSendError(`sending the drift alert from ${this.from} failed: ${reason}`);
    }
  }
}

import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { isEmailAddress } from '../lambdas/core/settings';

export interface DriftAlertsProps {
  /** The From address; CloudFormation creates it as an SES identity and SES mails a verification link. */
  readonly senderEmail: string;
  readonly recipients: readonly string[];
}

/**
 * The SES side of drift alerts: the sender identity, and a grant that lets a function send as
 * that identity and no other.
 */
export class DriftAlerts extends Construct {
  readonly identity: ses.EmailIdentity;
  readonly senderEmail: string;
  readonly recipients: readonly string[];

  constructor(scope: Construct, id: string, props: DriftAlertsProps) {
    super(scope, id);
    if (!isEmailAddress(props.senderEmail)) {
      throw new Error(`DriftAlertsProps.senderEmail must be an e-mail address (got '${props.senderEmail}')`);
    }
    if (props.recipients.length === 0 || props.recipients.some((r) => !isEmailAddress(r))) {
      throw new Error(
        `DriftAlertsProps.recipients must be one or more e-mail addresses (got ${JSON.stringify(props.recipients)})`,
      );
    }
    this.senderEmail = props.senderEmail;
    this.recipients = props.recipients;
    this.identity = new ses.EmailIdentity(this, 'Sender', {
      identity: ses.Identity.email(props.senderEmail),
    });
  }

  /** The environment a sending function reads (ALERT_SENDER, ALERT_RECIPIENTS comma-separated). */
  get environment(): Record<string, string> {
    return { ALERT_SENDER: this.senderEmail, ALERT_RECIPIENTS: this.recipients.join(',') };
  }

  /**
   * ses:SendEmail and ses:SendRawEmail on the sender identity only, and only with that From
   * address. The recipients' identity ARNs are listed too because, while the account is in the
   * SES sandbox, SES also authorises against the (verified) recipient identities.
   */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const identityArn = (name: string) =>
      stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ses:SendEmail', 'ses:SendRawEmail'],
      resourceArns: [identityArn(this.senderEmail), ...this.recipients.map(identityArn)],
      conditions: { StringEquals: { 'ses:FromAddress': this.senderEmail } },
    });
  }
}

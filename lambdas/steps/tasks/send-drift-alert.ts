/**
 * Keep the drift episode and e-mail once when a breach starts and once when it ends (the core's
 * `alertOnDrift`): the episode state lives in the monitoring bucket, the mail goes out through
 * SESv2 from `ALERT_SENDER` to `ALERT_RECIPIENTS` (the variables lib/drift-alerts.ts sets).
 */
import { alertOnDrift, S3EpisodeStore, SesAlertSender } from '../../core/monitoring';
import { EMAIL_ADDRESS_PATTERN } from '../../core/settings';
import type { SendDriftAlertInput, SendDriftAlertOutput } from '../step-io';
import type { Environment } from '../support/step-config';
import type { StepContext } from '../support/step-context';
import { StepConfigError, StepInputError } from '../support/step-errors';

export interface AlertSettings {
  readonly sender: string;
  readonly recipients: readonly string[];
}

export function alertSettingsFrom(env: Environment): AlertSettings {
  const sender = env.ALERT_SENDER?.trim() ?? '';
  if (!EMAIL_ADDRESS_PATTERN.test(sender))
    throw new StepConfigError('ALERT_SENDER', `must be the verified From address, got '${sender}'`);
  const recipients = (env.ALERT_RECIPIENTS ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
  const bad = recipients.find((address) => !EMAIL_ADDRESS_PATTERN.test(address));
  if (recipients.length === 0 || bad !== undefined)
    throw new StepConfigError(
      'ALERT_RECIPIENTS',
      `must be comma-separated e-mail addresses, got '${env.ALERT_RECIPIENTS ?? ''}'`,
    );
  return { sender, recipients };
}

export async function sendDriftAlert(
  input: SendDriftAlertInput,
  context: StepContext,
): Promise<SendDriftAlertOutput> {
  const drift = input.drift;
  if (!drift || typeof drift.drifted !== 'boolean' || typeof drift.modelName !== 'string')
    throw new StepInputError('drift', 'must be the output of compute-drift');
  const settings = alertSettingsFrom(context.env);
  // No value (nothing could be compared) says nothing about the episode, as in runMonitoring:
  // neither a breach nor a recovery, and the stored episode is left as it was.
  if (drift.value === null) return { decision: 'none', messageId: null, episodeSince: null };
  const outcome = await alertOnDrift(
    {
      drifted: drift.drifted,
      value: drift.value,
      timestamp: drift.timestamp,
      metric: drift.metric,
      threshold: drift.threshold,
      modelName: drift.modelName,
      ...(drift.modelVersion ? { modelVersion: drift.modelVersion } : {}),
      ...(drift.reportUrl ? { reportUrl: drift.reportUrl } : {}),
      driftedColumns: drift.driftedColumns,
    },
    {
      store: new S3EpisodeStore(context.s3, context.config.buckets.monitoring),
      sender: new SesAlertSender(context.ses(), settings.sender, settings.recipients),
    },
  );
  return {
    decision: outcome.decision,
    messageId: outcome.messageId ?? null,
    episodeSince: outcome.episodeSince ?? null,
  };
}

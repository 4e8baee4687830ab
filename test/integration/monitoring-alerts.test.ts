import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertSendError, alertOnDrift, S3EpisodeStore, SesAlertSender } from '../../lambdas/core/monitoring';

// The alert path against the real local SES and S3: e-mails are read back from the endpoint's
// mailbox, and the episode state survives between calls because it lives in S3.
const aws = {
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION,
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
};
const s3 = new S3Client(aws);
const ses = new SESv2Client(aws);
const suffix = randomUUID().slice(0, 8);
const bucket = `monitoring-${suffix}`;
const sender = `alerts-${suffix}@example.com`;
const modelName = `iris-${suffix}`;

interface MailboxMessage {
  Subject: string;
  Body: { html_part?: string; text_part?: string };
  Destination: { ToAddresses: string[] };
}

async function mailbox(): Promise<MailboxMessage[]> {
  const res = await fetch(`${process.env.AWS_ENDPOINT_URL}/_aws/ses?email=${encodeURIComponent(sender)}`);
  return ((await res.json()) as { messages: MailboxMessage[] }).messages;
}

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: sender }));
});

afterAll(() => {
  s3.destroy();
  ses.destroy();
});

describe('drift alerts through SES', () => {
  const deps = () => ({
    store: new S3EpisodeStore(s3, bucket),
    sender: new SesAlertSender(ses, sender, ['data-science@example.com']),
  });
  const run = (drifted: boolean, value: number, timestamp: string) => ({
    drifted,
    value,
    timestamp,
    metric: 'share_drifted',
    threshold: 0.2,
    modelName,
    modelVersion: '2',
  });

  it('delivers one breach e-mail with the value and timestamp, none for a second breach, one on recovery', async () => {
    const first = await alertOnDrift(run(true, 0.6, '2026-11-23T02:30:00.000Z'), deps());
    expect(first.decision).toBe('breach');
    let messages = await mailbox();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Subject).toBe(`[drift] ${modelName} v2: share_drifted 0.6000 is over 0.2000`);
    expect(messages[0]?.Body.html_part).toContain('2026-11-23T02:30:00.000Z');
    expect(messages[0]?.Body.html_part).toContain('0.6000');
    expect(messages[0]?.Destination.ToAddresses).toEqual(['data-science@example.com']);

    // A fresh store object: the episode is read back from S3, not from memory.
    const second = await alertOnDrift(run(true, 0.7, '2026-11-24T02:30:00.000Z'), deps());
    expect(second.decision).toBe('none');
    expect(await mailbox()).toHaveLength(1);

    const recovered = await alertOnDrift(run(false, 0.05, '2026-11-25T02:30:00.000Z'), deps());
    expect(recovered.decision).toBe('recovery');
    messages = await mailbox();
    expect(messages).toHaveLength(2);
    expect(messages[1]?.Subject).toContain('[recovered]');
  });

  it('fails loudly when SES rejects the message, and leaves the episode unopened', async () => {
    const store = new S3EpisodeStore(s3, bucket);
    const unverified = new SesAlertSender(ses, `nobody-${suffix}@unverified.example`, [
      'data-science@example.com',
    ]);
    const model = `${modelName}-unverified`;

    await expect(
      alertOnDrift({ ...run(true, 0.6, 'now'), modelName: model }, { store, sender: unverified }),
    ).rejects.toThrow(AlertSendError);
    expect((await store.load(model)).inBreach).toBe(false);
  });
});

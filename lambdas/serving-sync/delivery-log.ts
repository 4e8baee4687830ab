/**
 * The webhook deliveries already acted on, kept in the serving bucket as empty objects
 * `webhooks/deliveries/<delivery id>`: created with `If-None-Match: *`, so of two requests with
 * the same delivery id exactly one wins, across Lambda environments and restarts. A delivery
 * whose work then fails is released again, so MLflow's retry (same delivery id) is not refused.
 * The signature's timestamp window (5 minutes) bounds how long an id must be remembered: the
 * stack may expire the prefix after a day.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { httpStatus } from '../core/serving-manifest';

export const DELIVERIES_PREFIX = 'webhooks/deliveries/';

export function deliveryKey(deliveryId: string): string {
  return `${DELIVERIES_PREFIX}${encodeURIComponent(deliveryId)}`;
}

/** True when this delivery id is new (now recorded); false when it was seen before. */
export async function claimDelivery(
  s3: S3Client,
  bucket: string,
  deliveryId: string,
  receivedAt: Date = new Date(),
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: deliveryKey(deliveryId),
        Body: '',
        IfNoneMatch: '*',
        Metadata: { 'received-at': receivedAt.toISOString() },
      }),
    );
    return true;
  } catch (error) {
    // 409: another conditional write to the same key is in flight (S3 asks to retry; it is a replay either way).
    const status = httpStatus(error);
    if (status === 412 || status === 409) return false;
    throw error;
  }
}

/** Forgets a claimed delivery whose work failed, so its retry is processed. */
export async function releaseDelivery(s3: S3Client, bucket: string, deliveryId: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: deliveryKey(deliveryId) }));
}

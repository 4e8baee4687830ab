/**
 * MLflow's webhook signature (mlflow/webhooks/delivery.py): the header `X-MLflow-Signature` is
 * `v1,<base64 HMAC-SHA256(secret, "<delivery id>.<timestamp>.<body>")>`, with the delivery id and
 * the Unix timestamp (seconds) in `X-MLflow-Delivery-Id` and `X-MLflow-Timestamp`. A delivery is
 * accepted only with a matching signature (compared in constant time) and a timestamp within the
 * window of now, so a captured request cannot be replayed later; replays inside the window are
 * caught by the delivery id (delivery-log.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-mlflow-signature';
export const DELIVERY_ID_HEADER = 'x-mlflow-delivery-id';
export const TIMESTAMP_HEADER = 'x-mlflow-timestamp';
export const SIGNATURE_VERSION = 'v1';
/** How far a delivery's timestamp may be from now, either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface SignedDelivery {
  readonly deliveryId: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: string;
}

export type SignatureVerdict =
  | { readonly ok: true; readonly deliveryId: string; readonly timestamp: number }
  | { readonly ok: false; readonly reason: string };

/** The signature header's value MLflow would send for this delivery. */
export function signDelivery(secret: string, deliveryId: string, timestamp: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${deliveryId}.${timestamp}.${body}`).digest('base64');
  return `${SIGNATURE_VERSION},${mac}`;
}

export function verifyDelivery(
  secret: string,
  delivery: SignedDelivery,
  options: { readonly now?: Date; readonly toleranceSeconds?: number } = {},
): SignatureVerdict {
  const { deliveryId, timestamp, signature, body } = delivery;
  if (!signature) return { ok: false, reason: 'the X-MLflow-Signature header is missing' };
  if (!deliveryId) return { ok: false, reason: 'the X-MLflow-Delivery-Id header is missing' };
  if (!timestamp) return { ok: false, reason: 'the X-MLflow-Timestamp header is missing' };
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: `X-MLflow-Timestamp must be Unix seconds, got ${JSON.stringify(timestamp)}` };
  }
  const comma = signature.indexOf(',');
  const version = comma < 0 ? '' : signature.slice(0, comma);
  if (version !== SIGNATURE_VERSION) {
    return { ok: false, reason: `X-MLflow-Signature must start with '${SIGNATURE_VERSION},'` };
  }
  const given = Buffer.from(signature.slice(comma + 1), 'base64');
  const expected = Buffer.from(signDelivery(secret, deliveryId, timestamp, body).slice(comma + 1), 'base64');
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time the same.
  const matches =
    given.length === expected.length
      ? timingSafeEqual(given, expected)
      : !timingSafeEqual(expected, expected);
  if (!matches) return { ok: false, reason: 'X-MLflow-Signature does not match the body' };
  const seconds = Number(timestamp);
  const now = (options.now ?? new Date()).getTime() / 1000;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - seconds) > tolerance) {
    return {
      ok: false,
      reason: `X-MLflow-Timestamp ${timestamp} is ${Math.round(now - seconds)} s from now (more than ${tolerance} s)`,
    };
  }
  return { ok: true, deliveryId, timestamp: seconds };
}

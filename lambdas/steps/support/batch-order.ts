/**
 * Which published batch is newer, by the batch itself, never by when a pipeline ran: a landing
 * batch is ordered by its prefix (S3's lexicographic order, the order the inference and
 * monitoring pipelines find the newest batch in: `landing/<dataset>/<YYYY-MM-DD>/`), then by the
 * newest LastModified of its objects (the same prefix landed again). `datasets/<name>/latest.json`
 * moves only to a batch that is newer than the one it points at, so re-running the data pipeline
 * on an older batch publishes (or finds) that batch's version without making it the latest.
 *
 * A bundled dataset is no batch (`null`): it has no order, and publishing it moves `latest.json`
 * whenever the content differs, as before batches were ordered.
 */
import { StepInputError } from './step-errors';

/** A landing batch's own position: its prefix, and when its newest object landed. */
export interface BatchOrder {
  /** `s3://<bucket>/<prefix>` of the batch, ending with `/`. */
  readonly prefix: string;
  /** ISO 8601 LastModified of the batch's newest object (data files and contract). */
  readonly landedAt: string;
}

/** Negative when `a` is older than `b`, 0 for the same batch landed at the same time, positive when newer. */
export function compareBatches(a: BatchOrder, b: BatchOrder): number {
  if (a.prefix !== b.prefix) return a.prefix < b.prefix ? -1 : 1;
  const [ta, tb] = [Date.parse(a.landedAt), Date.parse(b.landedAt)];
  return ta === tb ? 0 : ta < tb ? -1 : 1;
}

export type LatestDecision =
  /** `latest.json` already names this version (from this batch or a newer one): nothing to write. */
  | 'unchanged'
  /** No `latest.json` yet, or this batch is newer (or either side has no order): it moves here. */
  | 'moved'
  /** The batch `latest.json` names is newer (or the same batch, landed later): it stays. */
  | 'kept';

/** Whether publishing `next` (of `version`) moves a `latest.json` that names `current`. */
export function latestDecision(
  current: { readonly version: string; readonly batch: BatchOrder | null } | null,
  next: { readonly version: string; readonly batch: BatchOrder | null },
): LatestDecision {
  if (current === null) return 'moved';
  if (current.version === next.version) {
    // The same content in a newer batch: the pointer records the newer batch, so a batch landed
    // between the two cannot move it back later.
    const newer =
      next.batch !== null && (current.batch === null || compareBatches(next.batch, current.batch) > 0);
    return newer ? 'moved' : 'unchanged';
  }
  if (current.batch === null || next.batch === null) return 'moved';
  return compareBatches(next.batch, current.batch) > 0 ? 'moved' : 'kept';
}

/** A `BatchOrder` read back from JSON (a manifest or `latest.json`), or null when it has none; names the field at fault. */
export function parseBatchOrder(value: unknown, field: string): BatchOrder | null {
  if (value === undefined || value === null) return null;
  const order = value as Partial<BatchOrder>;
  if (typeof order.prefix !== 'string' || order.prefix === '') {
    throw new StepInputError(
      `${field}.prefix`,
      `must be a non-empty string (got ${JSON.stringify(order.prefix)})`,
    );
  }
  if (typeof order.landedAt !== 'string' || Number.isNaN(Date.parse(order.landedAt))) {
    throw new StepInputError(
      `${field}.landedAt`,
      `must be an ISO 8601 time (got ${JSON.stringify(order.landedAt)})`,
    );
  }
  return { prefix: order.prefix, landedAt: order.landedAt };
}

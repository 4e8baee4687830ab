/**
 * Splitting a run's metrics, params and tags into `runs/log-batch` requests within MLflow's limits
 * (mlflow/utils/validation.py): at most 1000 metrics, 100 params and 100 tags per request, 1000
 * entities in all, and a request of at most 1 MB.
 */

export const LOG_BATCH_LIMITS = {
  metrics: 1000,
  params: 100,
  tags: 100,
  entities: 1000,
  bytes: 1_000_000,
} as const;

export type LogBatchLimits = { readonly [K in keyof typeof LOG_BATCH_LIMITS]: number };

/** A metric to log; `timestamp` defaults to the time of the call, `step` to 0. */
export interface MetricInput {
  readonly key: string;
  /** NaN and ±Infinity are sent the way MLflow's JSON expects them. */
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly timestamp?: number;
  readonly step?: number;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** A record as MLflow's list of params or tags. */
export function keyValues(record: Readonly<Record<string, string>>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

export interface LogBatchRequest {
  readonly run_id: string;
  readonly metrics?: readonly MetricInput[];
  readonly params?: readonly KeyValue[];
  readonly tags?: readonly KeyValue[];
}

/** A metric as sent on the wire. */
export interface WireMetric {
  readonly key: string;
  readonly value: number | 'NaN' | 'Infinity' | '-Infinity';
  readonly timestamp: number;
  readonly step: number;
}

/** One `runs/log-batch` request body. */
export interface LogBatchChunk {
  readonly run_id: string;
  readonly metrics: WireMetric[];
  readonly params: KeyValue[];
  readonly tags: KeyValue[];
}

/**
 * Splits a batch into as few requests as the limits allow, keeping the order within each kind.
 * Each request takes as many params and tags as fit and fills the rest with metrics, as MLflow's
 * Python client does. An entity too large for a request on its own still gets one, for the server
 * to reject with its own message.
 */
export function splitLogBatch(
  batch: LogBatchRequest,
  now: number = Date.now(),
  limits: LogBatchLimits = LOG_BATCH_LIMITS,
): LogBatchChunk[] {
  for (const [name, limit] of Object.entries(limits)) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`log-batch limit ${name} must be a positive integer`);
  }
  const queues = {
    params: [...(batch.params ?? [])].map((param) => ({ key: param.key, value: param.value })),
    tags: [...(batch.tags ?? [])].map((tag) => ({ key: tag.key, value: tag.value })),
    metrics: (batch.metrics ?? []).map((metric) => toWireMetric(metric, now)),
  };
  const envelope = jsonBytes({ run_id: batch.run_id, metrics: [], params: [], tags: [] });
  const chunks: LogBatchChunk[] = [];
  let cursor = { params: 0, tags: 0, metrics: 0 };
  while (
    cursor.params < queues.params.length ||
    cursor.tags < queues.tags.length ||
    cursor.metrics < queues.metrics.length
  ) {
    const chunk: LogBatchChunk = { run_id: batch.run_id, metrics: [], params: [], tags: [] };
    let bytes = envelope;
    let entities = 0;
    const next = { ...cursor };
    for (const kind of ['params', 'tags', 'metrics'] as const) {
      const queue = queues[kind];
      const target = chunk[kind] as Array<(typeof queue)[number]>;
      while (next[kind] < queue.length && target.length < limits[kind] && entities < limits.entities) {
        const item = queue[next[kind]] as (typeof queue)[number];
        const size = jsonBytes(item) + 1;
        if (bytes + size > limits.bytes && entities > 0) break;
        target.push(item);
        bytes += size;
        entities += 1;
        next[kind] += 1;
      }
    }
    cursor = next;
    chunks.push(chunk);
  }
  return chunks;
}

function toWireMetric(metric: MetricInput, now: number): WireMetric {
  return {
    key: metric.key,
    value: wireDouble(metric.value),
    timestamp: Math.trunc(metric.timestamp ?? now),
    step: Math.trunc(metric.step ?? 0),
  };
}

/** JSON has no NaN or Infinity; protobuf's JSON mapping spells them as strings, and MLflow reads those. */
function wireDouble(value: number): WireMetric['value'] {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

import { describe, expect, it } from 'vitest';
import { LOG_BATCH_LIMITS, splitLogBatch } from '../../lambdas/core/mlflow';

const NOW = 1_700_000_000_000;
const params = (count: number, size = 1) =>
  Array.from({ length: count }, (_, i) => ({ key: `p${i}`, value: 'x'.repeat(size) }));
const tags = (count: number, size = 1) =>
  Array.from({ length: count }, (_, i) => ({ key: `t${i}`, value: 'y'.repeat(size) }));
const metrics = (count: number) =>
  Array.from({ length: count }, (_, step) => ({ key: 'loss', value: step, step }));

describe('splitLogBatch', () => {
  it('sends a batch within the limits as one request', () => {
    const chunks = splitLogBatch({ run_id: 'r1', metrics: metrics(1000) }, NOW);

    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.metrics).toHaveLength(1000);
  });

  it('keeps every request within 1000 metrics, 100 params, 100 tags and 1000 entities', () => {
    const chunks = splitLogBatch(
      { run_id: 'r1', metrics: metrics(2345), params: params(250), tags: tags(150) },
      NOW,
    );

    for (const chunk of chunks) {
      expect(chunk.metrics.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.metrics);
      expect(chunk.params.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.params);
      expect(chunk.tags.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.tags);
      expect(chunk.metrics.length + chunk.params.length + chunk.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(chunks).toHaveLength(3);
    expect(chunks.flatMap((chunk) => chunk.metrics.map((metric) => metric.step))).toEqual(
      Array.from({ length: 2345 }, (_, step) => step),
    );
    expect(chunks.flatMap((chunk) => chunk.params.map((param) => param.key))).toEqual(
      params(250).map((p) => p.key),
    );
    expect(chunks.flatMap((chunk) => chunk.tags).length).toBe(150);
  });

  it('splits by size when long values would make a request over 1 MB', () => {
    // 100 params of 6000 characters and 100 tags of 8000 (MLflow's maximum lengths) are 1.4 MB.
    const chunks = splitLogBatch({ run_id: 'r1', params: params(100, 6000), tags: tags(100, 8000) }, NOW);

    expect(chunks.length).toBe(2);
    for (const chunk of chunks)
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(1_000_000);
    expect(chunks.reduce((sum, chunk) => sum + chunk.params.length + chunk.tags.length, 0)).toBe(200);
  });

  it('stamps metrics without a timestamp with the time of the call and step 0', () => {
    const [chunk] = splitLogBatch({ run_id: 'r1', metrics: [{ key: 'acc', value: 0.9 }] }, NOW);

    expect(chunk?.metrics).toEqual([{ key: 'acc', value: 0.9, timestamp: NOW, step: 0 }]);
  });

  it('spells NaN and infinities the way MLflow reads them from JSON', () => {
    const [chunk] = splitLogBatch(
      {
        run_id: 'r1',
        metrics: [
          { key: 'a', value: Number.NaN, timestamp: 1 },
          { key: 'b', value: Number.POSITIVE_INFINITY, timestamp: 1 },
          { key: 'c', value: Number.NEGATIVE_INFINITY, timestamp: 1 },
        ],
      },
      NOW,
    );

    expect(chunk?.metrics.map((metric) => metric.value)).toEqual(['NaN', 'Infinity', '-Infinity']);
    expect(JSON.parse(JSON.stringify(chunk)).metrics[0].value).toBe('NaN');
  });

  it('makes no request for an empty batch', () => {
    expect(splitLogBatch({ run_id: 'r1' }, NOW)).toEqual([]);
  });
});

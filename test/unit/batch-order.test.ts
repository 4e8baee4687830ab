import { describe, expect, it } from 'vitest';
import { compareBatches, latestDecision, parseBatchOrder } from '../../lambdas/steps/support/batch-order';

const batch = (day: string, landedAt = `${day}T06:00:00.000Z`) => ({
  prefix: `s3://landing/landing/iris/${day}/`,
  landedAt,
});

describe('batch order', () => {
  it('orders batches by prefix, then by when the same prefix last landed', () => {
    expect(compareBatches(batch('2025-06-01'), batch('2025-06-02'))).toBeLessThan(0);
    // Landed later but an older batch: the prefix decides.
    expect(compareBatches(batch('2025-06-01', '2025-07-01T00:00:00Z'), batch('2025-06-02'))).toBeLessThan(0);
    expect(compareBatches(batch('2025-06-02', '2025-06-03T00:00:00Z'), batch('2025-06-02'))).toBeGreaterThan(
      0,
    );
    expect(compareBatches(batch('2025-06-02'), batch('2025-06-02', '2025-06-02T06:00:00Z'))).toBe(0);
  });

  it('moves latest.json only to a newer batch, never back to an older one', () => {
    const newer = { version: 'sha256-b', batch: batch('2025-06-02') };
    const older = { version: 'sha256-a', batch: batch('2025-06-01') };
    expect(latestDecision(null, older)).toBe('moved');
    expect(latestDecision(older, newer)).toBe('moved');
    expect(latestDecision(newer, older)).toBe('kept');
    // The same batch landed again with other content is newer.
    expect(
      latestDecision(newer, { version: 'sha256-c', batch: batch('2025-06-02', '2025-06-05T00:00:00Z') }),
    ).toBe('moved');
  });

  it('leaves latest.json alone on a re-run, and records a newer batch of the same content', () => {
    const current = { version: 'sha256-a', batch: batch('2025-06-01') };
    expect(latestDecision(current, { version: 'sha256-a', batch: batch('2025-06-01') })).toBe('unchanged');
    expect(latestDecision(current, { version: 'sha256-a', batch: batch('2025-05-31') })).toBe('unchanged');
    expect(latestDecision(current, { version: 'sha256-a', batch: batch('2025-06-03') })).toBe('moved');
  });

  it('moves for data without a batch order (bundled data, pointers written before batches were ordered)', () => {
    expect(
      latestDecision(
        { version: 'sha256-a', batch: null },
        { version: 'sha256-b', batch: batch('2025-06-01') },
      ),
    ).toBe('moved');
    expect(
      latestDecision(
        { version: 'sha256-a', batch: batch('2025-06-01') },
        { version: 'sha256-b', batch: null },
      ),
    ).toBe('moved');
    expect(latestDecision({ version: 'sha256-a', batch: null }, { version: 'sha256-a', batch: null })).toBe(
      'unchanged',
    );
  });

  it('reads an order back from JSON, naming the field at fault', () => {
    expect(parseBatchOrder(undefined, 'batch')).toBeNull();
    expect(parseBatchOrder(batch('2025-06-01'), 'batch')).toEqual(batch('2025-06-01'));
    expect(() =>
      parseBatchOrder({ prefix: '', landedAt: '2025-06-01T00:00:00Z' }, 'latest.json batch'),
    ).toThrow('latest.json batch.prefix: must be a non-empty string (got "")');
    expect(() => parseBatchOrder({ prefix: 's3://x/', landedAt: 'yesterday' }, 'batch')).toThrow(
      'batch.landedAt: must be an ISO 8601 time (got "yesterday")',
    );
  });
});

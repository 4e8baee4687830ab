import { describe, expect, it } from 'vitest';
import { encodeFrame, frameDigest, loadAndValidate, parseContract } from '../../lambdas/core/data';
import { numericCsv } from '../support/data-fixtures';

const ROWS = 200_000;
const COLUMNS = 10;
/**
 * Generous for a shared 2-core CI machine: unloaded, the CSV load takes well under a second
 * (a million rows in about 1.5 s); the budget catches a slide into per-row objects or a
 * quadratic loop, not noise.
 */
const BUDGET_MS = 10_000;

const contract = parseContract({
  task: 'regression',
  target: `f${COLUMNS - 1}`,
  columns: Array.from({ length: COLUMNS }, (_, c) => ({ name: `f${c}`, type: 'number', min: 0, max: 100 })),
});

describe('loading at volume', () => {
  it(`validates ${ROWS} rows × ${COLUMNS} columns of CSV, then Parquet, in seconds`, async () => {
    const csv = Buffer.from(numericCsv(ROWS, COLUMNS));
    const firstRow = csv.toString('utf8', 0, 200).split('\n')[1]?.split(',').map(Number);

    const csvStart = performance.now();
    const fromCsv = await loadAndValidate({ bytes: csv, format: 'csv' }, contract);
    const csvMs = performance.now() - csvStart;
    const parquet = encodeFrame(fromCsv.frame, 'parquet', { contract });
    const parquetStart = performance.now();
    const fromParquet = await loadAndValidate({ bytes: parquet, format: 'parquet' }, contract);
    const parquetMs = performance.now() - parquetStart;

    console.info(`CSV ${csvMs.toFixed(0)} ms, Parquet ${parquetMs.toFixed(0)} ms for ${ROWS} rows`);
    expect(fromCsv.counts).toEqual({ input: ROWS, valid: ROWS, quarantined: 0 });
    const f0 = fromCsv.frame.columns.get('f0');
    expect(f0?.kind === 'numeric' && f0.values[0]).toBe(firstRow?.[0]);
    // Sized to the rows exactly: no doubling slack kept alive behind the frame.
    expect(f0?.kind === 'numeric' && f0.values.buffer.byteLength).toBe(ROWS * 8);
    expect(frameDigest(fromParquet.frame)).toBe(frameDigest(fromCsv.frame));
    expect(csvMs).toBeLessThan(BUDGET_MS);
    expect(parquetMs).toBeLessThan(BUDGET_MS);
  }, 60_000);
});

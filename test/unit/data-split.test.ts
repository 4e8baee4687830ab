import { describe, expect, it } from 'vitest';
import {
  type Column,
  categoricalColumn,
  type DataContract,
  datasetVersion,
  encodeFrame,
  type Frame,
  frameDigest,
  loadFrame,
  numericColumn,
  parseContract,
  splitFrame,
  takeRows,
} from '../../lambdas/core/data';

const CONTRACT: DataContract = parseContract({
  task: 'classification',
  target: 'label',
  time_column: 'day',
  columns: [
    { name: 'day', type: 'datetime' },
    { name: 'x', type: 'number' },
    { name: 'label', type: 'category', values: ['a', 'b', 'c'] },
  ],
});

/** 100 rows: 60 of class a, 30 of b, 10 of c; days shuffled so file order is not time order. */
function sampleFrame(): Frame {
  const rows = 100;
  const days = Float64Array.from(
    { length: rows },
    (_, i) => Date.UTC(2024, 0, 1) + ((i * 37) % rows) * 86_400_000,
  );
  const x = Float64Array.from({ length: rows }, (_, i) => i);
  const labels = Int32Array.from({ length: rows }, (_, i) => (i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2));
  return {
    rowCount: rows,
    columns: new Map<string, Column>([
      ['day', numericColumn(days)],
      ['x', numericColumn(x)],
      ['label', categoricalColumn(labels, ['a', 'b', 'c'])],
    ]),
  };
}

function classCounts(frame: Frame): number[] {
  const column = frame.columns.get('label');
  if (column?.kind !== 'categorical') throw new Error('no label');
  const counts = [0, 0, 0];
  for (const code of column.codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

describe('random split', () => {
  it('is the same for the same seed and differs for another seed', () => {
    const frame = sampleFrame();

    const first = splitFrame(frame, CONTRACT, { method: 'random', seed: 7 });
    const again = splitFrame(frame, CONTRACT, { method: 'random', seed: 7 });
    const other = splitFrame(frame, CONTRACT, { method: 'random', seed: 8 });

    expect(again.testRows).toEqual(first.testRows);
    expect(again.digests).toEqual(first.digests);
    expect(other.testRows).not.toEqual(first.testRows);
  });

  it('puts every row in exactly one part, ceil(n · fraction) of them in test', () => {
    const frame = sampleFrame();

    const split = splitFrame(frame, CONTRACT, {
      method: 'random',
      testFraction: 0.25,
      seed: 1,
      stratify: false,
    });

    const all = [...split.trainRows, ...split.testRows].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(split.testRows).toHaveLength(25);
    expect(split.train.rowCount).toBe(75);
    expect(split.stratified).toBe(false);
  });

  it('keeps each class its share in both parts when stratified', () => {
    const split = splitFrame(sampleFrame(), CONTRACT, { method: 'random', testFraction: 0.2, seed: 3 });

    expect(split.stratified).toBe(true);
    expect(classCounts(split.test)).toEqual([12, 6, 2]);
    expect(classCounts(split.train)).toEqual([48, 24, 8]);
  });

  it('gives the allocation rounding to the largest remainders, summing to the test size', () => {
    const frame = takeRows(
      sampleFrame(),
      Int32Array.from({ length: 97 }, (_, i) => i),
    );

    const split = splitFrame(frame, CONTRACT, { method: 'random', testFraction: 0.3, seed: 3 });

    // 97 rows: 60 a, 28 b, 9 c; 30 test rows: quotas 18.56, 8.66, 2.78 → floors 18, 8, 2, and the
    // two rows left go to the largest remainders, c then b.
    expect(classCounts(frame)).toEqual([60, 28, 9]);
    expect(classCounts(split.test)).toEqual([18, 9, 3]);
  });

  it('versions each part by digest, the reference being the training set', () => {
    const frame = sampleFrame();

    const split = splitFrame(frame, CONTRACT, { method: 'random', seed: 5 });

    expect(split.digests.dataset).toBe(frameDigest(frame));
    expect(split.digests.train).toBe(frameDigest(split.train));
    expect(split.digests.test).toBe(frameDigest(split.test));
    expect(split.reference).toBe(split.train);
    expect(split.digests.reference).toBe(split.digests.train);
    expect(split.version).toBe(`sha256-${split.digests.dataset.slice(0, 16)}`);
    expect(new Set(Object.values(split.digests)).size).toBe(3);
  });

  it('rejects bad options, naming them', () => {
    const frame = sampleFrame();
    const regression = parseContract({ ...CONTRACT, task: 'regression', target: 'x' });

    expect(() => splitFrame(frame, CONTRACT, { method: 'random', testFraction: 1 })).toThrow(/testFraction/);
    expect(() => splitFrame(frame, CONTRACT, { method: 'random', seed: 1.5 })).toThrow(
      /seed must be an integer/,
    );
    expect(() => splitFrame(frame, regression, { method: 'random', stratify: true })).toThrow(
      /stratify applies/,
    );
    expect(splitFrame(frame, regression, { method: 'random' }).stratified).toBe(false);
  });
});

describe('time split', () => {
  it('puts the oldest rows in train and the newest in test, in time order', () => {
    const frame = sampleFrame();
    const day = frame.columns.get('day');
    if (day?.kind !== 'numeric') throw new Error('no day');

    const split = splitFrame(frame, CONTRACT, { method: 'time', testFraction: 0.2 });

    const trainTimes = Array.from(split.trainRows, (row) => day.values[row] as number);
    const testTimes = Array.from(split.testRows, (row) => day.values[row] as number);
    expect(split.testRows).toHaveLength(20);
    expect(Math.max(...trainTimes)).toBeLessThan(Math.min(...testTimes));
    expect(testTimes).toEqual([...testTimes].sort((a, b) => a - b));
    expect(testTimes[0]).toBe(Date.UTC(2024, 0, 1) + 80 * 86_400_000);
    expect(split.seed).toBeNull();
  });

  it('needs a time column, and a time in every row', () => {
    const frame = sampleFrame();
    const noTime = parseContract({ ...CONTRACT, time_column: undefined });
    const gap = sampleFrame();
    (gap.columns.get('day') as ReturnType<typeof numericColumn>).values[4] = Number.NaN;

    expect(() => splitFrame(frame, noTime, { method: 'time' })).toThrow(/needs a time_column/);
    expect(() => splitFrame(gap, CONTRACT, { method: 'time' })).toThrow(/row 5 has none/);
  });
});

describe('dataset versions', () => {
  it('are the same for the same data read from CSV or Parquet, and change with one value', async () => {
    const csv = 'day,x,label\n2024-01-01,1.5,a\n2024-01-02,2,b\n2024-01-03,-0,c\n';
    const fromCsv = await loadFrame({ bytes: Buffer.from(csv), format: 'csv' }, { contract: CONTRACT });
    const fromParquet = await loadFrame(
      { bytes: encodeFrame(fromCsv, 'parquet', { contract: CONTRACT }), format: 'parquet' },
      { contract: CONTRACT },
    );
    const changed = await loadFrame(
      { bytes: Buffer.from(csv.replace('1.5', '1.25')), format: 'csv' },
      { contract: CONTRACT },
    );

    expect(datasetVersion(fromParquet)).toBe(datasetVersion(fromCsv));
    expect(datasetVersion(changed)).not.toBe(datasetVersion(fromCsv));
    expect(frameDigest(fromCsv)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('do not depend on category level order or unused levels, only on values', () => {
    const a: Frame = {
      rowCount: 3,
      columns: new Map([['c', categoricalColumn(Int32Array.of(0, 1, -1), ['x', 'y'])]]),
    };
    const b: Frame = {
      rowCount: 3,
      columns: new Map([['c', categoricalColumn(Int32Array.of(2, 0, -1), ['y', 'unused', 'x'])]]),
    };
    const c: Frame = {
      rowCount: 3,
      columns: new Map([['c', categoricalColumn(Int32Array.of(0, 1, 1), ['x', 'y'])]]),
    };

    expect(frameDigest(b)).toBe(frameDigest(a));
    expect(frameDigest(c)).not.toBe(frameDigest(a));
  });

  it('do not depend on how a missing value or a zero is spelt in bits', () => {
    const plain = Float64Array.of(Number.NaN, 0, 1);
    const odd = Float64Array.of(0, -0, 1);
    new DataView(odd.buffer).setBigUint64(0, 0xfff8000000000001n, true); // a negative NaN with a payload

    expect(Number.isNaN(odd[0])).toBe(true);
    expect(frameDigest({ rowCount: 3, columns: new Map([['v', numericColumn(odd)]]) })).toBe(
      frameDigest({ rowCount: 3, columns: new Map([['v', numericColumn(plain)]]) }),
    );
  });
});

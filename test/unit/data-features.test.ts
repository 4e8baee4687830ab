import { describe, expect, it } from 'vitest';
import {
  type DataContract,
  featureMatrix,
  labelVector,
  loadFrame,
  parseContract,
  trainingData,
} from '../../lambdas/core/data';

const CSV = [
  'day,size,shape,ok,price',
  '2024-01-01,1.5,round,true,10',
  '2024-01-02,,square,false,12.5',
  '2024-01-03,3,,true,7',
].join('\n');

function contract(task: 'classification' | 'regression', target: string): DataContract {
  return parseContract({
    task,
    target,
    time_column: 'day',
    columns: [
      { name: 'day', type: 'datetime' },
      { name: 'size', type: 'number', nullable: true },
      { name: 'shape', type: 'category', values: ['square', 'round'], nullable: true },
      { name: 'ok', type: 'boolean' },
      { name: 'price', type: 'number' },
    ],
  });
}

async function frameFor(c: DataContract) {
  return loadFrame({ bytes: Buffer.from(CSV), format: 'csv' }, { contract: c });
}

describe('featureMatrix', () => {
  it('lays the contract features out row-major, categories as level indices, missing as NaN', async () => {
    const c = contract('regression', 'price');

    const x = featureMatrix(await frameFor(c), c);

    expect(x.features).toEqual(['size', 'shape', 'ok']);
    expect([x.rowCount, x.featureCount]).toEqual([3, 3]);
    expect(Array.from(x.values)).toEqual([1.5, 1, 1, Number.NaN, 0, 0, 3, Number.NaN, 1]);
    expect(x.categoryLevels.get('shape')).toEqual(['square', 'round']);
  });

  it('takes a chosen feature list in its order and names a feature the frame lacks', async () => {
    const c = contract('regression', 'price');
    const frame = await frameFor(c);

    expect(Array.from(featureMatrix(frame, c, ['ok', 'size']).values)).toEqual([1, 1.5, 0, Number.NaN, 1, 3]);
    expect(() => featureMatrix(frame, c, ['weight'])).toThrow(
      'feature "weight" is not a column of the frame',
    );
  });
});

describe('labelVector', () => {
  it('gives numbers for regression', async () => {
    const c = contract('regression', 'price');

    expect(labelVector(await frameFor(c), c)).toEqual({
      task: 'regression',
      values: Float64Array.of(10, 12.5, 7),
    });
  });

  it('gives class indices and names for a boolean target', async () => {
    const c = contract('classification', 'ok');

    const y = labelVector(await frameFor(c), c);

    expect(y).toEqual({
      task: 'classification',
      classIndex: Int32Array.of(1, 0, 1),
      classes: ['false', 'true'],
    });
  });

  it('gives the contract classes for a category target and refuses a missing label', async () => {
    const c = contract('classification', 'shape');
    const complete = await loadFrame(
      { bytes: Buffer.from(CSV.replace(',,true', ',round,true')), format: 'csv' },
      { contract: c },
    );

    const { x, y } = trainingData(complete, c);

    expect(y).toEqual({
      task: 'classification',
      classIndex: Int32Array.of(1, 0, 1),
      classes: ['square', 'round'],
    });
    expect(x.features).toEqual(['size', 'ok', 'price']);
    const withGap = await frameFor(c); // the contract lets shape be missing: row 3 has none
    expect(() => labelVector(withGap, c)).toThrow(/"shape" is missing in row 3/);
  });
});

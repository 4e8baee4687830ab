/**
 * `inferContract` (mlops contract infer): the draft of the bundled cars data matches what its
 * hand-written contract says, a CSV with missing values gets nullable columns, and every draft
 * loads its own data without a rejected row (but the rows missing a target).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type DataContract,
  DataError,
  inferContract,
  loadAndValidate,
  loadFrame,
  parseContract,
} from '../../lambdas/core/data';
import { ROOT } from '../../localstack/services/services';

const CARS = join(ROOT, 'lambdas/core/datasets/cars/cars.json');

const MISSING_CSV = [
  'age,income,city,member,joined,churned',
  '34,52000.5,Lyon,true,2024-01-05,yes',
  ',61000,Paris,false,2024-02-11,no',
  '45,,Lyon,true,,no',
  '29,48000,,,2024-03-01T10:00:00Z,yes',
  '51,75000,Nice,false,2024-04-20,',
].join('\n');
const csv = { bytes: new TextEncoder().encode(MISSING_CSV), name: 'customers.csv' };

describe('inferContract', () => {
  it('drafts the cars contract: types, ranges, categories, nullability; the id column left out', async () => {
    const frame = await loadFrame(CARS);
    const bundled = parseContract(
      (await import('../../lambdas/core/datasets/cars/input_schema.json', { with: { type: 'json' } }))
        .default,
    );

    const { contract, notes } = inferContract(frame, { name: 'cars', target: 'Miles_per_Gallon' });

    expect(contract.task).toBe('regression');
    expect(contract.columns.map((c) => c.name)).toEqual(bundled.columns.map((c) => c.name));
    const byName = new Map(contract.columns.map((c) => [c.name, c]));
    expect(byName.get('Origin')).toEqual({
      name: 'Origin',
      type: 'category',
      values: ['Europe', 'Japan', 'USA'],
    });
    expect(byName.get('Year')).toEqual({ name: 'Year', type: 'datetime' });
    expect(byName.get('Cylinders')).toEqual({ name: 'Cylinders', type: 'integer', min: 3, max: 8 });
    expect(byName.get('Horsepower')).toMatchObject({ nullable: true, min: 46, max: 230 });
    expect(byName.get('Acceleration')).toEqual({ name: 'Acceleration', type: 'number', min: 8, max: 24.8 });
    // The target is never nullable: a row without one cannot be trained on.
    expect(byName.get('Miles_per_Gallon')?.nullable).toBeUndefined();
    expect(notes).toEqual([
      'left out Name: 311 distinct strings in 406 rows, an id rather than a feature',
      'target Miles_per_Gallon has missing values: those rows will be quarantined',
    ]);
    const { counts } = await loadAndValidate(CARS, contract);
    const withBundled = await loadAndValidate(CARS, bundled);
    expect(counts).toEqual(withBundled.counts);
    expect(counts.quarantined).toBe(8);
  });

  it('marks columns with missing values nullable, and reads booleans and dates from strings', async () => {
    const frame = await loadFrame(csv);

    const { contract, notes } = inferContract(frame, { name: 'customers' });

    expect(contract).toEqual<DataContract>({
      name: 'customers',
      task: 'classification',
      target: 'churned',
      columns: [
        { name: 'age', type: 'integer', nullable: true, min: 29, max: 51 },
        { name: 'income', type: 'number', nullable: true, min: 48000, max: 75000 },
        { name: 'city', type: 'category', nullable: true, values: ['Lyon', 'Nice', 'Paris'] },
        { name: 'member', type: 'boolean', nullable: true },
        { name: 'joined', type: 'datetime', nullable: true },
        { name: 'churned', type: 'category', values: ['no', 'yes'] },
      ],
    });
    expect(notes).toEqual([
      'target: churned (the last column; choose another with --target)',
      'target churned has missing values: those rows will be quarantined',
    ]);
    expect((await loadAndValidate(csv, contract)).counts).toEqual({ input: 5, valid: 4, quarantined: 1 });
  });

  it('takes the task from the target: decimals regress, few whole numbers classify, --task wins', async () => {
    const frame = await loadFrame(csv);
    expect(inferContract(frame, { target: 'income' }).contract.task).toBe('regression');
    expect(inferContract(frame, { target: 'age' }).contract.task).toBe('classification');
    expect(inferContract(frame, { target: 'age', task: 'regression' }).contract.task).toBe('regression');
    // Over --max-categories, and about one value per row: an id, left out.
    const few = inferContract(frame, { target: 'churned', maxCategories: 2 });
    expect(few.contract.columns.map((c) => c.name)).not.toContain('city');
    expect(few.notes).toContain('left out city: 3 distinct strings in 5 rows, an id rather than a feature');
  });

  it.each([
    [
      { target: 'nope' },
      'target',
      'target "nope" is not a column of the data (age, income, city, member, joined, churned)',
    ],
    [
      { target: 'city', task: 'regression' as const },
      'task',
      'a regression target must be numeric; "city" is category',
    ],
    [
      { target: 'income', task: 'classification' as const },
      'task',
      'a classification target must be a category, boolean or integer column; "income" has decimal values',
    ],
    [{ maxCategories: 0 }, 'maxCategories', 'maxCategories must be a whole number of at least 1, got 0'],
  ])('refuses %j naming the field', async (options, field, message) => {
    const frame = await loadFrame(csv);
    let error: unknown;
    try {
      inferContract(frame, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).field).toBe(field);
    expect((error as DataError).message).toBe(message);
  });
});

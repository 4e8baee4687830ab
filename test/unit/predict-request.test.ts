import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lambdas/core/serving/errors';
import type { InputColumn, ModelInputs, ValueKind } from '../../lambdas/core/serving/model-inputs';
import { compileInputs, parsePredictRequest } from '../../lambdas/core/serving/predict-request';

/** One float [N, F] tensor `input` whose columns take these kinds of values. */
function matrix(columns: Record<string, ValueKind>): ModelInputs {
  const names = Object.keys(columns);
  return {
    inputs: [{ name: 'input', elementType: 'float32', layout: 'matrix', width: names.length }],
    columns: names.map(
      (name, offset): InputColumn => ({
        name,
        kind: columns[name] as ValueKind,
        required: true,
        input: 0,
        offset,
      }),
    ),
  };
}

const iris = compileInputs(
  matrix({ sepal_length: 'number', sepal_width: 'number', petal_length: 'number', petal_width: 'number' }),
);
const ROW = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const VALUES = [5.1, 3.5, 1.4, 0.2];

function rejection(body: unknown, maxRows = 1000, schema = iris): ValidationError {
  try {
    parsePredictRequest(body, schema, maxRows);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('parsePredictRequest', () => {
  it.each([
    ['instances of records', { instances: [ROW, ROW] }],
    ['instances of positional rows', { instances: [VALUES, VALUES] }],
    ['dataframe_records', { dataframe_records: [ROW, ROW] }],
    [
      'dataframe_split in another column order',
      {
        dataframe_split: {
          columns: ['petal_width', 'petal_length', 'sepal_width', 'sepal_length'],
          data: [
            [0.2, 1.4, 3.5, 5.1],
            [0.2, 1.4, 3.5, 5.1],
          ],
          index: [0, 1],
        },
      },
    ],
    ['inputs as rows', { inputs: [VALUES, VALUES] }],
    ['inputs as a named tensor', { inputs: { input: [VALUES, VALUES] } }],
    [
      'inputs as columns',
      {
        inputs: {
          sepal_length: [5.1, 5.1],
          sepal_width: [3.5, 3.5],
          petal_length: [1.4, 1.4],
          petal_width: [0.2, 0.2],
        },
      },
    ],
  ])('reads %s into the model tensor in column order', (_, body) => {
    const parsed = parsePredictRequest(body, iris, 1000);

    expect(parsed.rows).toBe(2);
    expect(Array.from(parsed.tensors[0] as Float32Array)).toEqual([...VALUES, ...VALUES].map(Math.fround));
  });

  it('names the field and row of a value of the wrong type', () => {
    const error = rejection({ instances: [ROW, { ...ROW, petal_width: '0.2' }] });

    expect(error).toMatchObject({ code: 'INVALID_TYPE', field: 'petal_width', row: 1 });
    expect(error.message).toBe('petal_width in row 1 must be a number, got the string "0.2"');
  });

  it('names a missing field', () => {
    const { sepal_width: _, ...partial } = ROW;
    expect(rejection({ dataframe_records: [ROW, ROW, partial] })).toMatchObject({
      code: 'MISSING_FIELD',
      field: 'sepal_width',
      row: 2,
    });
  });

  it('names an unknown field', () => {
    expect(rejection({ instances: [{ ...ROW, colour: 'blue' }] })).toMatchObject({
      code: 'UNKNOWN_FIELD',
      field: 'colour',
      row: 0,
    });
  });

  it('rejects numbers that overflow to Infinity or beyond float32', () => {
    // 1e999 is valid JSON and parses to Infinity.
    const overflow = JSON.parse(
      '{"instances": [{"sepal_length": 1e999, "sepal_width": 1, "petal_length": 1, "petal_width": 1}]}',
    );
    expect(rejection(overflow)).toMatchObject({
      code: 'NOT_FINITE',
      field: 'sepal_length',
    });
    expect(rejection({ instances: [{ ...ROW, sepal_length: 1e39 }] })).toMatchObject({ code: 'NOT_FINITE' });
  });

  it('rejects null and NaN strings as the wrong type', () => {
    expect(rejection({ instances: [{ ...ROW, petal_length: null }] })).toMatchObject({
      code: 'INVALID_TYPE',
      field: 'petal_length',
      row: 0,
    });
    expect(rejection({ inputs: [[5.1, 'NaN', 1.4, 0.2]] })).toMatchObject({
      code: 'INVALID_TYPE',
      field: 'sepal_width',
    });
  });

  it('rejects more rows than allowed, and no rows', () => {
    expect(rejection({ instances: [ROW, ROW, ROW] }, 2)).toMatchObject({
      code: 'TOO_MANY_ROWS',
      field: 'instances',
    });
    expect(rejection({ instances: [] })).toMatchObject({ code: 'NO_ROWS' });
  });

  it('rejects a body with no known shape or with two of them', () => {
    expect(rejection([ROW])).toMatchObject({ code: 'INVALID_SHAPE' });
    expect(rejection({ records: [ROW] })).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'records' });
    expect(rejection({ instances: [ROW], inputs: [VALUES] })).toMatchObject({ code: 'INVALID_SHAPE' });
    expect(rejection({})).toMatchObject({ code: 'INVALID_SHAPE' });
  });

  it('rejects positional rows of the wrong width and records in dataframe_records as lists', () => {
    expect(rejection({ instances: [VALUES, [1, 2, 3]] })).toMatchObject({ code: 'INVALID_SHAPE', row: 1 });
    expect(rejection({ dataframe_records: [VALUES] })).toMatchObject({ code: 'INVALID_SHAPE', row: 0 });
  });

  it('checks dataframe_split columns: unknown, missing and repeated', () => {
    const data = [[1, 2, 3, 4]];
    const columns = ['sepal_length', 'sepal_width', 'petal_length'];
    expect(rejection({ dataframe_split: { columns: [...columns, 'x'], data } })).toMatchObject({
      code: 'UNKNOWN_FIELD',
      field: 'x',
    });
    expect(rejection({ dataframe_split: { columns, data: [[1, 2, 3]] } })).toMatchObject({
      code: 'MISSING_FIELD',
      field: 'petal_width',
    });
    expect(rejection({ dataframe_split: { columns: [...columns, 'sepal_length'], data } })).toMatchObject({
      code: 'INVALID_SHAPE',
      field: 'sepal_length',
    });
  });

  it('takes integers and booleans where the signature says so', () => {
    const typed = compileInputs(matrix({ rooms: 'integer', garden: 'boolean' }));

    expect(
      Array.from(
        parsePredictRequest({ instances: [{ rooms: 3, garden: true }] }, typed, 10)
          .tensors[0] as Float32Array,
      ),
    ).toEqual([3, 1]);
    expect(rejection({ instances: [{ rooms: 2.5, garden: false }] }, 10, typed)).toMatchObject({
      code: 'INVALID_TYPE',
      field: 'rooms',
    });
    expect(rejection({ instances: [{ rooms: 2, garden: 1 }] }, 10, typed)).toMatchObject({
      code: 'INVALID_TYPE',
      field: 'garden',
    });
  });

  it('clips a huge unknown key in the error', () => {
    const key = 'k'.repeat(10_000);
    const error = rejection({ instances: [{ [key]: 1 }] });

    expect(error.field?.length).toBeLessThanOrEqual(101);
    expect(error.message.length).toBeLessThan(400);
  });
});

describe('a datetime column (our models take dates as epoch milliseconds)', () => {
  const cars = compileInputs(matrix({ Year: 'datetime', Weight: 'number' }));

  it('takes an ISO date, a date-time with an offset, or epoch milliseconds', () => {
    const parsed = parsePredictRequest(
      {
        instances: [
          { Year: '1970-01-01', Weight: 1 },
          { Year: '1982-06-01T12:00:00+02:00', Weight: 2 },
          { Year: 86_400_000, Weight: 3 },
        ],
      },
      cars,
      10,
    );
    const values = Array.from(parsed.tensors[0] as Float32Array);
    expect([values[0], values[2], values[4]]).toEqual(
      [0, Date.UTC(1982, 5, 1, 10), 86_400_000].map(Math.fround),
    );
  });

  it('refuses a string that is not a date, naming the column and row', () => {
    const error = rejection(
      {
        instances: [
          { Year: '1970-01-01', Weight: 1 },
          { Year: 'last year', Weight: 1 },
        ],
      },
      10,
      cars,
    );
    expect(error).toMatchObject({ code: 'INVALID_TYPE', field: 'Year', row: 1 });
    expect(error.message).toContain('ISO 8601');
    expect(rejection({ instances: [{ Year: '1970-02-30', Weight: 1 }] }, 10, cars).field).toBe('Year');
  });
});

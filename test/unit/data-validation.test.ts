import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  categoryAt,
  type DataError,
  type DataFormat,
  encodeFrame,
  loadAndValidate,
  loadFrame,
  parseContract,
  quarantineToJsonLines,
  type ValidationResult,
  validateRecords,
  writeQuarantineFile,
} from '../../lambdas/core/data';
import { MIXED_CONTRACT } from '../support/data-fixtures';

const IRIS = parseContract({
  task: 'classification',
  target: 'species',
  columns: [
    { name: 'sepal_length', type: 'number', min: 0, max: 10 },
    { name: 'sepal_width', type: 'number', min: 0, max: 10 },
    { name: 'petal_length', type: 'number', min: 0, max: 10 },
    { name: 'petal_width', type: 'number', min: 0, max: 10, nullable: true },
    { name: 'species', type: 'category', values: ['setosa', 'versicolor', 'virginica'] },
  ],
});

/** 20 data rows; rows 3, 7, 11, 12, 17 and 19 are broken (row 12 twice over). */
const DIRTY_IRIS = [
  'sepal_length,sepal_width,petal_length,petal_width,species,batch',
  '5.1,3.5,1.4,0.2,setosa,a',
  '4.9,3.0,1.4,0.2,setosa,a',
  '4.7,3.2,1.3,0.2,daisy,a', // 3: not an allowed species
  '4.6,3.1,1.5,,setosa,a', // nullable petal_width: valid
  '5.0,3.6,1.4,0.2,setosa,a',
  '7.0,3.2,4.7,1.4,versicolor,a',
  '6.4,3.2,4.5,1.5,,b', // 7: species missing
  '6.9,3.1,4.9,1.5,versicolor,b',
  '5.5,2.3,4.0,1.3,versicolor,b',
  '6.5,2.8,4.6,1.5,versicolor,b',
  '5.7,2.8,4.5,12,versicolor,b', // 11: above max 10
  'abc,2.8,-1,1.3,versicolor,b', // 12: not a number, below min 0
  '6.3,3.3,6.0,2.5,virginica,c',
  '5.8,2.7,5.1,1.9,virginica,c',
  '7.1,3.0,5.9,2.1,virginica,c',
  '6.3,2.9,5.6,1.8,virginica,c',
  '6.5,3.0,5.8,2.2', // 17: too few fields
  '7.6,3.0,6.6,2.1,virginica,c',
  '0x10,3.0,6.6,2.1,virginica,c', // 19: hex is not data
  '7.3,2.9,6.3,1.8,virginica,c',
].join('\n');

function brokenRows(result: ValidationResult): number[] {
  return result.quarantined.map((row) => row.row);
}

function messages(result: ValidationResult): string[] {
  return result.quarantined.flatMap((row) => row.reasons.map((reason) => reason.message));
}

async function validateText(text: string, format: DataFormat = 'csv'): Promise<ValidationResult> {
  return loadAndValidate({ bytes: Buffer.from(text), format }, IRIS);
}

describe('loadAndValidate', () => {
  it('quarantines exactly the broken rows, with a reason naming row, column, value and rule', async () => {
    const result = await validateText(DIRTY_IRIS);

    expect(result.counts).toEqual({ input: 20, valid: 14, quarantined: 6 });
    expect(result.counts.valid + result.counts.quarantined).toBe(result.counts.input);
    expect(brokenRows(result)).toEqual([3, 7, 11, 12, 17, 19]);
    expect(messages(result)).toEqual([
      'row 3: column "species" value "daisy" is not one of [setosa, versicolor, virginica]',
      'row 7: column "species" has no value (null not allowed)',
      'row 11: column "petal_width" value "12" is above max 10',
      'row 12: column "sepal_length" value "abc" is not a number',
      'row 12: column "petal_length" value "-1" is below min 0',
      'row 17: has 4 fields, the header has 6',
      'row 19: column "sepal_length" value "0x10" is not a number',
    ]);
    expect(result.reasonCounts).toEqual({
      not_allowed_value: 1,
      null_not_allowed: 1,
      above_max: 1,
      not_a_number: 2,
      below_min: 1,
      malformed_row: 1,
    });
  });

  it('keeps the valid rows in file order, contract columns only, and reports the unknown column', async () => {
    const result = await validateText(DIRTY_IRIS);
    const species = result.frame.columns.get('species');
    const width = result.frame.columns.get('petal_width');

    expect([...result.frame.columns.keys()]).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
      'species',
    ]);
    expect(result.unknownColumns).toEqual(['batch']);
    expect(result.frame.rowCount).toBe(14);
    expect(width?.kind === 'numeric' && Array.from(width.values.slice(0, 4))).toEqual([
      0.2,
      0.2,
      Number.NaN,
      0.2,
    ]);
    expect(species?.kind === 'categorical' && categoryAt(species, 13)).toBe('virginica');
  });

  it('keeps the original values of a quarantined row, unknown columns included', async () => {
    const result = await validateText(DIRTY_IRIS);

    expect(result.quarantined[3]?.record).toEqual({
      sepal_length: 'abc',
      sepal_width: '2.8',
      petal_length: '-1',
      petal_width: '1.3',
      species: 'versicolor',
      batch: 'b',
    });
  });

  it('fails the whole file when a contract column is missing, naming it', async () => {
    const text = 'sepal_length,sepal_width,petal_width,species\n5.1,3.5,0.2,setosa\n';

    const error = (await validateText(text).catch((e: unknown) => e)) as DataError;

    expect(error.code).toBe('MISSING_COLUMN');
    expect(error.field).toBe('petal_length');
    expect(error.message).toContain('column "petal_length" required by the data contract is missing');
  });

  it('lets data to score go without its target when asked', async () => {
    const text = 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n';

    const strict = await validateText(text).catch((e: DataError) => e.code);
    const scoring = await loadAndValidate({ bytes: Buffer.from(text), format: 'csv' }, IRIS, {
      requireTarget: false,
    });

    expect(strict).toBe('MISSING_COLUMN');
    expect(scoring.counts).toEqual({ input: 1, valid: 1, quarantined: 0 });
    expect([...scoring.frame.columns.keys()]).not.toContain('species');
  });

  it('quarantines the same rows, and keeps the same frame, whatever the file format', async () => {
    const csv = await validateText(DIRTY_IRIS);
    const [header = '', ...lines] = DIRTY_IRIS.split('\n');
    const names = header.split(',');
    const value = (cell: string) => (cell === '' ? null : /^[\d.]+$/.test(cell) ? Number(cell) : cell);
    const records = lines.map((line) =>
      Object.fromEntries(line.split(',').map((cell, i) => [names[i], value(cell)])),
    );
    const json = JSON.stringify(records);
    const parquet = encodeFrame(await loadFrame({ bytes: Buffer.from(json), format: 'json' }), 'parquet');
    const inputs = [
      ['json', Buffer.from(json)],
      ['jsonl', Buffer.from(records.map((record) => JSON.stringify(record)).join('\n'))],
      ['parquet', parquet],
    ] as const;

    for (const [format, bytes] of inputs) {
      const result = await loadAndValidate({ bytes, format }, IRIS);

      expect(brokenRows(result)).toEqual([3, 7, 11, 12, 17, 19]);
      // Row 17 lacks its last fields: outside CSV that is a missing species, not a short row.
      expect(result.quarantined[4]?.reasons[0]?.message).toBe(
        'row 17: column "species" has no value (null not allowed)',
      );
      expect(result.unknownColumns).toEqual(['batch']);
      expect(result.frame).toEqual(csv.frame);
    }
  });

  it('names the line of a JSON Lines row that is not JSON or not an object', async () => {
    const text = [
      '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "species": "setosa"}',
      '',
      '{"sepal_length": 5.1, "sepal_width": 3.5,',
      '[5.1, 3.5, 1.4, 0.2, "setosa"]',
      '{"sepal_length": "5.1", "sepal_width": true, "petal_length": 1.4, "petal_width": null, "species": "setosa"}',
    ].join('\n');

    const result = await validateText(text, 'jsonl');

    expect(result.counts).toEqual({ input: 4, valid: 1, quarantined: 3 });
    expect(brokenRows(result)).toEqual([3, 4, 5]);
    expect(messages(result)[0]).toMatch(/^row 3: is not valid JSON/);
    expect(messages(result)[1]).toBe('row 4: is not a JSON object (got an array)');
    expect(messages(result)[2]).toBe('row 5: column "sepal_width" value true is not a number');
    expect(result.quarantined[0]?.record).toEqual({ _value: '{"sepal_length": 5.1, "sepal_width": 3.5,' });
  });

  it('reports Parquet rows by their 1-based position in the file', async () => {
    const frame = await loadFrame({
      bytes: Buffer.from(DIRTY_IRIS.split('\n').slice(0, 13).join('\n')),
      format: 'csv',
    });

    const result = await loadAndValidate({ bytes: encodeFrame(frame, 'parquet'), format: 'parquet' }, IRIS);

    expect(brokenRows(result)).toEqual([3, 7, 11, 12]);
    expect(result.quarantined[3]?.reasons.map((r) => r.column)).toEqual(['sepal_length', 'petal_length']);
    expect(result.quarantined[2]?.record).toMatchObject({
      petal_width: 12,
      species: 'versicolor',
      batch: 'b',
    });
  });
});

describe('cell rules', () => {
  function rowsOf(result: ValidationResult) {
    return result.quarantined.map((row) => [row.row, row.reasons.map((r) => r.rule).join(',')]);
  }

  it('checks integers, booleans and datetimes', async () => {
    const text = [
      'id,when,height,active,color,note,label',
      '1,2024-01-01,1,true,red,,no',
      '2.5,2024-01-01,1,true,red,,no', // 2: not an integer
      '3,2024-02-30,1,true,red,,no', // 3: no such date
      '4,yesterday,1,true,red,,no', // 4
      '5,2024-01-01,1,yes,red,,no', // 5: not a boolean
      '-6,2024-01-01,1,false,red,,no', // 6: below min 0
      '7,2024-01-01,Infinity,0,red,,no', // 7: not finite
      '8,2024-01-01, 2.5 ,1,Red,,no', // 8: category values are exact
      '9,2024-01-01T10:00:00-05:30,NA,1,,NA,yes',
    ].join('\n');

    const result = await loadAndValidate({ bytes: Buffer.from(text), format: 'csv' }, MIXED_CONTRACT);
    const when = result.frame.columns.get('when');
    const note = result.frame.columns.get('note');

    expect(rowsOf(result)).toEqual([
      [2, 'not_an_integer'],
      [3, 'not_a_datetime'],
      [4, 'not_a_datetime'],
      [5, 'not_a_boolean'],
      [6, 'below_min'],
      [7, 'not_a_number'],
      [8, 'not_allowed_value'],
    ]);
    expect(result.counts).toEqual({ input: 9, valid: 2, quarantined: 7 });
    expect(when?.kind === 'numeric' && when.values[1]).toBe(Date.UTC(2024, 0, 1, 15, 30));
    expect(note?.kind === 'categorical' && categoryAt(note, 1)).toBe('NA'); // a category may be called NA
  });

  it('checks in-memory records like a JSON file', () => {
    const result = validateRecords(
      [
        { sepal_length: 5, sepal_width: 3, petal_length: 1, petal_width: 0.2, species: 'setosa' },
        { sepal_length: 5, sepal_width: 3, petal_length: 1, species: 'setosa' },
        { sepal_length: 5, sepal_width: 3, petal_length: 1, petal_width: 0.2, species: 'rose' },
        'not a record',
      ],
      IRIS,
      { source: 'request' },
    );

    expect(result.counts).toEqual({ input: 4, valid: 2, quarantined: 2 });
    expect(brokenRows(result)).toEqual([3, 4]);
  });
});

describe('strict loads and the quarantine file', () => {
  it('fails a strict load with the first reasons and the count', async () => {
    const error = (await loadFrame(
      { bytes: Buffer.from(DIRTY_IRIS), name: 'dirty.csv' },
      { contract: IRIS },
    ).catch((e: unknown) => e)) as DataError;

    expect(error.code).toBe('REJECTED_ROWS');
    expect(error.row).toBe(3);
    expect(error.field).toBe('species');
    expect(error.message).toMatch(/^dirty\.csv: 6 of 20 rows break the data contract:/);
    expect(error.message).toContain('… and 1 more rows');
  });

  it('writes one JSON object per quarantined row', async () => {
    const result = await validateText(DIRTY_IRIS);
    const path = join(await mkdtemp(join(tmpdir(), 'quarantine-')), 'iris', 'rows.jsonl');

    await writeQuarantineFile(path, result.quarantined);

    const text = await readFile(path, 'utf8');
    expect(text).toBe(quarantineToJsonLines(result.quarantined));
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));

    expect(lines).toHaveLength(6);
    expect(lines[0]).toEqual({
      row: 3,
      reasons: [
        {
          column: 'species',
          rule: 'not_allowed_value',
          value: 'daisy',
          message: 'row 3: column "species" value "daisy" is not one of [setosa, versicolor, virginica]',
        },
      ],
      record: {
        sepal_length: '4.7',
        sepal_width: '3.2',
        petal_length: '1.3',
        petal_width: '0.2',
        species: 'daisy',
        batch: 'a',
      },
    });
    expect(lines[4]).toMatchObject({ row: 17, record: { petal_width: '2.2' } });
  });
});

describe('row numbers', () => {
  it('count CSV records after the header, skipping empty lines', async () => {
    const text =
      'sepal_length,sepal_width,petal_length,petal_width,species\n\n5,3,1,0.2,setosa\n\n5,3,1,0.2,rose\n';

    const result = await validateText(text);

    expect(brokenRows(result)).toEqual([2]);
  });
});

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  categoryAt,
  DATA_FORMATS,
  type DataError,
  dataFormatOf,
  encodeFrame,
  type Frame,
  frameDigest,
  frameToCsv,
  loadFrame,
  readCsvRows,
  writeFrameFile,
} from '../../lambdas/core/data';
import { MIXED_CONTRACT, MIXED_CSV, MIXED_ROWS } from '../support/data-fixtures';

function bytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

function numbers(frame: Frame, name: string): number[] {
  const column = frame.columns.get(name);
  if (column?.kind !== 'numeric') throw new Error(`${name} is not numeric`);
  return Array.from(column.values);
}

function texts(frame: Frame, name: string): (string | null)[] {
  const column = frame.columns.get(name);
  if (column?.kind !== 'categorical') throw new Error(`${name} is not categorical`);
  return Array.from(column.codes, (_, row) => categoryAt(column, row));
}

async function loadError(...args: Parameters<typeof loadFrame>): Promise<DataError> {
  try {
    await loadFrame(...args);
  } catch (error) {
    return error as DataError;
  }
  throw new Error('the load succeeded');
}

describe('loading CSV with a contract', () => {
  let frame: Frame;
  beforeAll(async () => {
    frame = await loadFrame({ bytes: bytes(MIXED_CSV), format: 'csv' }, { contract: MIXED_CONTRACT });
  });

  it('stores every contract type in its typed form, columns in contract order', () => {
    expect(frame.rowCount).toBe(MIXED_ROWS);
    expect([...frame.columns.keys()]).toEqual(['id', 'when', 'height', 'active', 'color', 'note', 'label']);
    expect(numbers(frame, 'id')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(numbers(frame, 'when')).toEqual([
      Date.UTC(2024, 0, 1),
      Date.UTC(2024, 0, 2, 6, 30),
      Date.UTC(2024, 0, 2, 22, 0), // +02:00
      Date.UTC(2024, 0, 4, 12, 0), // no offset: UTC
      Date.UTC(2024, 0, 5),
      Date.UTC(2024, 0, 6, 23, 59, 59, 123),
    ]);
    expect(numbers(frame, 'height')).toEqual([1.5, Number.NaN, 2.25, 0, 9.75, 0.003]);
    expect(numbers(frame, 'active')).toEqual([1, 0, 1, 0, 1, 0]);
    expect(texts(frame, 'color')).toEqual(['red', null, 'green', 'blue', 'red', 'green']);
    expect(texts(frame, 'note')).toEqual([
      'plain',
      'with, comma',
      'say "hi"',
      'two\nlines',
      null,
      'Zürich ☂',
    ]);
  });

  it("takes a category's levels from the contract, or sorted from the data", () => {
    const color = frame.columns.get('color');
    const note = frame.columns.get('note');

    expect(color?.kind === 'categorical' && color.levels).toEqual(['red', 'green', 'blue']);
    expect(note?.kind === 'categorical' && note.levels).toEqual([
      'Zürich ☂',
      'plain',
      'say "hi"',
      'two\nlines',
      'with, comma',
    ]);
  });

  it('reads the same frame from a path as from bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'data-load-'));
    const path = join(dir, 'mixed.csv');
    await writeFile(path, MIXED_CSV);

    expect(await loadFrame(path, { contract: MIXED_CONTRACT })).toEqual(frame);
    expect(
      await loadFrame(
        { bytes: new TextEncoder().encode(MIXED_CSV).buffer, name: 'm.csv' },
        { contract: MIXED_CONTRACT },
      ),
    ).toEqual(frame);
  });
});

describe('writers and loaders round trip', () => {
  let frame: Frame;
  beforeAll(async () => {
    frame = await loadFrame({ bytes: bytes(MIXED_CSV), format: 'csv' }, { contract: MIXED_CONTRACT });
  });

  it.each(DATA_FORMATS)('gives back the same frame and digest through %s', async (format) => {
    const encoded = encodeFrame(frame, format, { contract: MIXED_CONTRACT });

    const read = await loadFrame({ bytes: encoded, format }, { contract: MIXED_CONTRACT });

    expect(read).toEqual(frame);
    expect(frameDigest(read)).toBe(frameDigest(frame));
  });

  it.each(DATA_FORMATS)('gives back an empty frame with its columns through %s', async (format) => {
    const empty = await loadFrame(
      { bytes: bytes(MIXED_CSV.split('\n')[0] as string), format: 'csv' },
      { contract: MIXED_CONTRACT },
    );

    const read = await loadFrame(
      { bytes: encodeFrame(empty, format, { contract: MIXED_CONTRACT }), format },
      { contract: MIXED_CONTRACT },
    );

    expect(read.rowCount).toBe(0);
    expect([...read.columns.keys()]).toEqual([...empty.columns.keys()]);
    expect(read).toEqual(empty);
  });

  it('writes a file in the format of its extension', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'data-write-'));
    const path = join(dir, 'nested', 'out.jsonl');

    await writeFrameFile(path, frame, { contract: MIXED_CONTRACT });

    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(MIXED_ROWS);
    expect(JSON.parse(lines[1] as string)).toEqual({
      id: 2,
      when: '2024-01-02T06:30:00.000Z',
      height: null,
      active: false,
      color: null,
      note: 'with, comma',
      label: 'yes',
    });
  });

  it('keeps the rows of a one-column frame whose value is missing', async () => {
    const single = await loadFrame({ bytes: bytes('x\n1\n\n3\n'), format: 'csv' });
    const withMissing = await loadFrame({ bytes: bytes('x,y\n1,a\n,b\n3,c\n'), format: 'csv' });
    const x = withMissing.columns.get('x');
    if (!x) throw new Error('no column x');
    const oneColumn: Frame = { rowCount: 3, columns: new Map([['x', x]]) };

    const text = frameToCsv(oneColumn);
    const read = await loadFrame({ bytes: bytes(text), format: 'csv' });

    expect(single.rowCount).toBe(2); // an empty line is not a row
    expect(text).toBe('x\n1\n""\n3\n');
    expect(numbers(read, 'x')).toEqual([1, Number.NaN, 3]);
  });
});

describe('CSV parsing', () => {
  function rowsOf(text: string, generalParser: boolean): string[][] {
    const rows: string[][] = [];
    readCsvRows(
      text,
      't.csv',
      (header) => {
        rows.push(header);
        return (cells, count) => rows.push(cells.slice(0, count));
      },
      { generalParser },
    );
    return rows;
  }

  it('gives the same cells on the quote-free fast path as csv-parse', () => {
    const text = '\ufeffa,b,c\r\n1,,3\r\n\r\n4,5\n,,\n7,8,9,10\nx y, z ,\n';

    const fast = rowsOf(text, false);
    const general = rowsOf(text, true);

    expect(fast).toEqual(general);
    expect(fast).toEqual([
      ['a', 'b', 'c'],
      ['1', '', '3'],
      ['4', '5'],
      ['', '', ''],
      ['7', '8', '9', '10'],
      ['x y', ' z ', ''],
    ]);
  });

  it('reads quoted fields with commas, quotes and line breaks', () => {
    expect(rowsOf('a,b\n"1,2","say ""x""\nnext"\n', false)).toEqual([
      ['a', 'b'],
      ['1,2', 'say "x"\nnext'],
    ]);
  });

  it('fails on broken quoting, naming the file and line', async () => {
    const error = await loadError({ bytes: bytes('a,b\n1,2\n3,"open\n'), name: 'broken.csv' });

    expect(error.code).toBe('MALFORMED_FILE');
    expect(error.message).toMatch(/^broken\.csv: not valid CSV at line \d/);
  });

  it('fails on an empty file and on bytes that are not UTF-8', async () => {
    expect((await loadError({ bytes: bytes(''), format: 'csv' })).message).toContain('no header row');
    expect(
      (await loadError({ bytes: new Uint8Array([0x61, 0x0a, 0xff, 0xfe]), format: 'csv' })).message,
    ).toContain('not UTF-8');
  });
});

describe('loading without a contract', () => {
  it('infers numeric and categorical columns', async () => {
    const frame = await loadFrame({ bytes: bytes('n,c,m\n1.5,a,\n2,b,NA\n-3e2,a,4\n'), format: 'csv' });

    expect(numbers(frame, 'n')).toEqual([1.5, 2, -300]);
    expect(texts(frame, 'c')).toEqual(['a', 'b', 'a']);
    expect(numbers(frame, 'm')).toEqual([Number.NaN, Number.NaN, 4]);
  });

  it('keeps the exact text of a column that turns out categorical late', async () => {
    const lines = ['code'];
    for (let i = 0; i < 500; i++) lines.push(i % 2 ? '1.50' : '007');
    lines.push('A1');

    const frame = await loadFrame({ bytes: bytes(lines.join('\n')), format: 'csv' });

    expect(frame.rowCount).toBe(501);
    expect(texts(frame, 'code').slice(0, 2)).toEqual(['007', '1.50']);
    expect(texts(frame, 'code')[500]).toBe('A1');
  });

  it('infers from JSON values and from Parquet types', async () => {
    const json = '[{"x": 1, "flag": true, "s": "a"}, {"x": null, "flag": false, "s": 2}]';

    const fromJson = await loadFrame({ bytes: bytes(json), format: 'json' });
    const fromParquet = await loadFrame({ bytes: encodeFrame(fromJson, 'parquet'), format: 'parquet' });

    expect(numbers(fromJson, 'x')).toEqual([1, Number.NaN]);
    expect(texts(fromJson, 'flag')).toEqual(['true', 'false']);
    expect(texts(fromJson, 's')).toEqual(['a', '2']);
    expect(fromParquet).toEqual(fromJson);
  });

  it('fails on rows with the wrong number of fields, naming the row', async () => {
    const error = await loadError({ bytes: bytes('a,b\n1,2\n3\n'), name: 'short.csv' });

    expect(error.code).toBe('REJECTED_ROWS');
    expect(error.row).toBe(2);
    expect(error.message).toContain('row 2: has 1 field, the header has 2');
  });
});

describe('formats', () => {
  it('are told by extension', () => {
    expect(['a.csv', 'b.JSON', 'c.jsonl', 'd.ndjson', 'e.parquet', 'f.pq'].map(dataFormatOf)).toEqual([
      'csv',
      'json',
      'jsonl',
      'jsonl',
      'parquet',
      'parquet',
    ]);
    expect(() => dataFormatOf('data.xlsx')).toThrow(/data\.xlsx: cannot tell the data format/);
  });

  it('fail clearly on what is not JSON, not an array, or not Parquet', async () => {
    expect((await loadError({ bytes: bytes('{"a": 1}'), format: 'json' })).message).toContain(
      'expected a JSON array of records, got an object',
    );
    expect((await loadError({ bytes: bytes('[1,'), format: 'json' })).code).toBe('MALFORMED_FILE');
    expect((await loadError({ bytes: bytes('a,b\n1,2\n'), name: 'x.parquet' })).message).toMatch(
      /^x\.parquet: not a readable Parquet file/,
    );
    expect((await loadError({ bytes: bytes('a') })).code).toBe('UNSUPPORTED_FORMAT');
    expect((await loadError('/no/such/file.csv')).code).toBe('READ_FAILED');
  });
});

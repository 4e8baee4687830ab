/**
 * The logged input example, in MLflow 3's layout: a DataFrame example is `input_example.json`
 * holding pandas' split orient without the index (`{"columns": [...], "data": [[...]]}`), plus
 * `serving_input_example.json`, the same rows as a scoring-server request
 * (`{"dataframe_split": ...}`); MLmodel's `saved_input_example_info` names both.
 */
import { z } from 'zod';
import { ModelFormatError } from './errors';

export const INPUT_EXAMPLE_FILE = 'input_example.json';
export const SERVING_INPUT_EXAMPLE_FILE = 'serving_input_example.json';

export type ExampleCell = number | string | boolean | null;

export type InputExample =
  | {
      readonly kind: 'dataframe';
      readonly columns: readonly string[];
      readonly data: readonly (readonly ExampleCell[])[];
    }
  /** Examples of other MLflow types (`ndarray`, `json_object`, …), as parsed JSON. */
  | { readonly kind: 'other'; readonly type: string; readonly value: unknown };

export interface SavedInputExampleInfo {
  readonly artifactPath: string;
  readonly type: string;
  readonly pandasOrient: string | null;
  readonly servingInputPath: string | null;
}

/**
 * A DataFrame example of rows in `columns` order (numbers, strings, booleans); a missing value
 * (null, NaN) is written as null, as pandas does.
 */
export function dataframeExample(
  columns: readonly string[],
  rows: readonly (readonly (ExampleCell | number)[])[],
): InputExample {
  rows.forEach((row, index) => {
    if (row.length !== columns.length) {
      throw new ModelFormatError(
        'INVALID_OPTIONS',
        `input example row ${index} has ${row.length} values for ${columns.length} features`,
        'inputExample',
      );
    }
  });
  return {
    kind: 'dataframe',
    columns: [...columns],
    data: rows.map((row) =>
      row.map((value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value)),
    ),
  };
}

/** The example's files and the MLmodel entry naming them. */
export function inputExampleFiles(example: InputExample): {
  info: SavedInputExampleInfo;
  files: Map<string, string>;
} {
  if (example.kind !== 'dataframe') {
    return {
      info: {
        artifactPath: INPUT_EXAMPLE_FILE,
        type: example.type,
        pandasOrient: null,
        servingInputPath: null,
      },
      files: new Map([[INPUT_EXAMPLE_FILE, JSON.stringify(example.value)]]),
    };
  }
  const split = { columns: example.columns, data: example.data };
  return {
    info: {
      artifactPath: INPUT_EXAMPLE_FILE,
      type: 'dataframe',
      pandasOrient: 'split',
      servingInputPath: SERVING_INPUT_EXAMPLE_FILE,
    },
    files: new Map([
      [INPUT_EXAMPLE_FILE, JSON.stringify(split)],
      [SERVING_INPUT_EXAMPLE_FILE, JSON.stringify({ dataframe_split: split }, null, 2)],
    ]),
  };
}

const CELL = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const SPLIT_FRAME = z.looseObject({
  columns: z.array(z.union([z.string(), z.number()]).transform(String)),
  data: z.array(z.array(CELL)),
});

/** Parses the example file `info` names (bytes as read from the directory). */
export function parseInputExample(info: SavedInputExampleInfo, bytes: Uint8Array): InputExample {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ModelFormatError('INVALID_INPUT_EXAMPLE', 'the input example is not JSON', info.artifactPath, {
      cause: error,
    });
  }
  if (info.type !== 'dataframe') return { kind: 'other', type: info.type, value };
  if (info.pandasOrient === 'records' && Array.isArray(value))
    return recordsToDataframe(value, info.artifactPath);
  const frame = SPLIT_FRAME.safeParse(value);
  if (!frame.success) {
    throw new ModelFormatError(
      'INVALID_INPUT_EXAMPLE',
      'the DataFrame input example is not in split orient ({"columns": [...], "data": [[...]]})',
      info.artifactPath,
    );
  }
  return { kind: 'dataframe', columns: frame.data.columns, data: frame.data.data };
}

/** MLflow 2 could save DataFrame examples in records orient: a list of {column: value}. */
function recordsToDataframe(records: unknown[], path: string): InputExample {
  const rows = z.array(z.record(z.string(), CELL)).safeParse(records);
  if (!rows.success) {
    throw new ModelFormatError(
      'INVALID_INPUT_EXAMPLE',
      'the records input example is not a list of rows',
      path,
    );
  }
  const columns = [...new Set(rows.data.flatMap((row) => Object.keys(row)))];
  return {
    kind: 'dataframe',
    columns,
    data: rows.data.map((row) => columns.map((column) => row[column] ?? null)),
  };
}

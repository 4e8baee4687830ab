/**
 * MLflow's scoring protocol (`POST /invocations` of `mlflow models serve` and of MLflow's
 * SageMaker containers), answered from the served ONNX model the way MLflow's onnx pyfunc answers:
 *
 * - bodies: JSON with exactly one of `dataframe_split`, `dataframe_records`, `instances`,
 *   `inputs` (and optionally `params`, which an onnx model ignores), or CSV with a header row;
 * - answers: `{"predictions": …}` with the graph's raw outputs. When the model reaches the onnx
 *   pyfunc as a DataFrame (a column signature; without a signature, the dataframe shapes and
 *   CSV), the pyfunc returns a DataFrame of the outputs, each flattened, which MLflow writes as
 *   records: `[{output: value, …}, …]`, one per row. When it reaches it as a numpy array (a
 *   tensor signature, whatever the body's shape; without a signature, `instances` / `inputs`),
 *   the pyfunc returns `{output: array}`.
 *
 * Where MLflow itself fails (a DataFrame answer from an output of several values per row, such
 * as a classifier's [N, C] probabilities: pandas refuses columns of different lengths) this API
 * answers the row's values as a list instead.
 */

import { ValidationError } from './errors';
import type { ModelStore } from './model-store';
import { parsePredictRequest, REQUEST_SHAPES } from './predict-request';
import type { RawOutput } from './servable-model';

export type ScoringBody =
  | { readonly kind: 'json'; readonly body: unknown }
  | { readonly kind: 'csv'; readonly text: string };

export interface ScoringAnswer {
  readonly predictions: unknown;
  /** The version that answered (not part of MLflow's body; the API sends it as a header). */
  readonly version: string;
}

/** Scores a body of MLflow's protocol with the model an alias serves. */
export async function score(
  store: ModelStore,
  request: ScoringBody,
  alias = store.defaultAlias,
): Promise<ScoringAnswer> {
  const model = await store.model(alias);
  let body: unknown;
  let frame: boolean;
  if (request.kind === 'csv') {
    const parsed = parseCsv(request.text);
    const kinds = new Map(model.compiled.columns.map((column) => [column.name, column.kind]));
    body = {
      dataframe_split: {
        columns: parsed.columns,
        data: parsed.rows.map((row) =>
          row.map((cell, i) => csvValue(cell, kinds.get(parsed.columns[i] ?? ''))),
        ),
      },
    };
    frame = model.signatureKind !== 'tensor';
  } else {
    body = withoutParams(request.body);
    const shape = body !== null && typeof body === 'object' ? Object.keys(body)[0] : undefined;
    frame =
      model.signatureKind === 'columns' ||
      (model.signatureKind === 'none' && (shape === 'dataframe_split' || shape === 'dataframe_records'));
  }
  const input = parsePredictRequest(body, model.compiled, store.maxRows);
  const outputs = await model.runRaw(input);
  return { predictions: frame ? records(outputs, input.rows) : tensors(outputs), version: model.version };
}

/** `params` is MLflow's inference parameters: an onnx model takes none, and MLflow ignores them for it. */
function withoutParams(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError(
      'INVALID_SHAPE',
      `The input must be a JSON dictionary with exactly one of the input fields ${REQUEST_SHAPES.join(', ')}`,
    );
  }
  const { params: _ignored, ...rest } = body as Record<string, unknown>;
  return rest;
}

/** pandas' `DataFrame.to_dict(orient="records")` of the onnx pyfunc's output frame. */
function records(outputs: readonly RawOutput[], rows: number): Record<string, unknown>[] {
  const answer: Record<string, unknown>[] = Array.from({ length: rows }, () => ({}));
  for (const output of outputs) {
    const width = rows === 0 ? 0 : output.values.length / rows;
    for (let row = 0; row < rows; row++) {
      const cell = answer[row] as Record<string, unknown>;
      cell[output.name] =
        width === 1 ? output.values[row] : output.values.slice(row * width, (row + 1) * width);
    }
  }
  return answer;
}

/** `{output: nested list}`, as numpy's `tolist()` writes each output. */
function tensors(outputs: readonly RawOutput[]): Record<string, unknown> {
  return Object.fromEntries(outputs.map((output) => [output.name, nest(output.values, output.dims)]));
}

function nest(values: readonly unknown[], dims: readonly number[]): unknown {
  if (dims.length <= 1) return [...values];
  const [first = 0, ...rest] = dims;
  const size = rest.reduce((product, dim) => product * dim, 1);
  return Array.from({ length: first }, (_, i) => nest(values.slice(i * size, (i + 1) * size), rest));
}

/**
 * A CSV cell as `pandas.read_csv` reads it against the model's columns: empty is missing, a
 * number column takes numbers, a boolean column True/False; anything else stays a string, so the
 * request parser names the column and row of a value that does not fit.
 */
function csvValue(cell: string, kind: string | undefined): unknown {
  if (cell === '') return null;
  if (kind === 'string') return cell;
  if (kind === 'boolean') {
    const lower = cell.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    return cell;
  }
  const number = Number(cell);
  return cell.trim() !== '' && Number.isFinite(number) ? number : cell;
}

/** RFC 4180 CSV with a header row (quoted fields, doubled quotes, CRLF or LF line ends). */
export function parseCsv(text: string): { columns: string[]; rows: string[][] } {
  const lines: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    field = '';
    if (!(row.length === 1 && row[0] === '')) lines.push(row);
    row = [];
  };
  while (i < text.length) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += char;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      endRow();
    } else field += char;
    i++;
  }
  if (quoted) throw new ValidationError('INVALID_SHAPE', 'the CSV body ends inside a quoted field');
  if (field !== '' || row.length > 0) endRow();
  const [header, ...rows] = lines;
  if (!header) throw new ValidationError('NO_ROWS', 'the CSV body is empty; send a header row and data rows');
  rows.forEach((cells, index) => {
    if (cells.length !== header.length) {
      throw new ValidationError(
        'INVALID_SHAPE',
        `CSV row ${index} has ${cells.length} fields; the header has ${header.length}`,
        undefined,
        index,
      );
    }
  });
  return { columns: header, rows };
}

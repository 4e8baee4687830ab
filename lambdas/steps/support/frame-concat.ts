/**
 * One frame from several: a batch (or an inference run's predictions) spread over several
 * objects is measured as one window. Columns are the union in first-seen order; a column an
 * object lacks is missing (NaN / -1) in its rows; categorical levels are merged, first-seen order.
 */
import { type Column, categoricalColumn, type Frame, numericColumn } from '../../core/data';
import { StepInputError } from './step-errors';

export function concatFrames(frames: readonly Frame[], field: string): Frame {
  if (frames.length === 1) return frames[0] as Frame;
  const rowCount = frames.reduce((sum, frame) => sum + frame.rowCount, 0);
  const kinds = new Map<string, Column['kind']>();
  for (const frame of frames) {
    for (const [name, column] of frame.columns) {
      const kind = kinds.get(name);
      if (kind !== undefined && kind !== column.kind)
        throw new StepInputError(
          field,
          `column "${name}" is numeric in one object and categorical in another`,
        );
      kinds.set(name, column.kind);
    }
  }
  const columns = new Map<string, Column>();
  for (const [name, kind] of kinds)
    columns.set(
      name,
      kind === 'numeric' ? concatNumeric(frames, name, rowCount) : concatCategorical(frames, name, rowCount),
    );
  return { rowCount, columns };
}

function concatNumeric(frames: readonly Frame[], name: string, rowCount: number): Column {
  const values = new Float64Array(rowCount).fill(Number.NaN);
  let offset = 0;
  for (const frame of frames) {
    const column = frame.columns.get(name);
    if (column?.kind === 'numeric') values.set(column.values, offset);
    offset += frame.rowCount;
  }
  return numericColumn(values);
}

function concatCategorical(frames: readonly Frame[], name: string, rowCount: number): Column {
  const levels: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(rowCount).fill(-1);
  let offset = 0;
  for (const frame of frames) {
    const column = frame.columns.get(name);
    if (column?.kind === 'categorical') {
      const remap = column.levels.map((level) => {
        let code = index.get(level);
        if (code === undefined) {
          code = levels.push(level) - 1;
          index.set(level, code);
        }
        return code;
      });
      for (let i = 0; i < column.codes.length; i++) {
        const code = column.codes[i] as number;
        codes[offset + i] = code < 0 ? -1 : (remap[code] as number);
      }
    }
    offset += frame.rowCount;
  }
  return categoricalColumn(codes, levels);
}

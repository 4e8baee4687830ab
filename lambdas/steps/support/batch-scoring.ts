/**
 * Scoring one input object with one pinned model version: the rows are read under the data
 * contract the model was trained with (its `data_contract/input_schema.json`), rows that break it
 * are counted and left out, and the rest go through the exported ONNX graph with onnxruntime-node
 * — the same artifact, runtime and input mapping (core/serving) the predict API serves with.
 * Rows the model cannot take (a category it does not know) are quarantined with the reason.
 */
import {
  type Column,
  categoricalColumn,
  categoryAt,
  type DataContract,
  type DataFormat,
  type Frame,
  type JsonValue,
  loadAndValidate,
  numericColumn,
  parseContract,
  type QuarantinedRow,
  takeRows,
} from '../../core/data';
import type { OnnxPrediction } from '../../core/lifecycle/onnx-holdout';
import type { ModelDirectory } from '../../core/model-format';
import { FrameMismatchError, type RowProblem } from '../../core/serving/frame-inputs';
import { type FrameScores, scoreFrame } from '../../core/serving/frame-scoring';
import type { ModelVersionRef } from '../step-io';
import { StepInputError } from './step-errors';

export interface InputBatch {
  /** The rows that meet the contract, in file order. */
  readonly frame: Frame;
  /** The 1-based source row number of each row of `frame` (as quarantine reasons number rows). */
  readonly rowIds: Float64Array;
  readonly rejectedRows: number;
  /** The rows that break the contract, with their reasons: they are written to quarantine too. */
  readonly contractRejects: readonly QuarantinedRow[];
}

export function modelContract(directory: ModelDirectory, ref: ModelVersionRef): DataContract {
  if (directory.dataContract === null || directory.dataContract === undefined) {
    throw new StepInputError(
      `models.${ref.alias.toLowerCase()}`,
      `${ref.name} version ${ref.version} has no data_contract/input_schema.json to read its input with`,
    );
  }
  return parseContract(directory.dataContract, `${ref.name} version ${ref.version} data contract`);
}

/** Reads an object's rows under the contract; the target may be absent (data to score has none). */
export async function readInputBatch(
  bytes: Uint8Array,
  format: DataFormat,
  source: string,
  contract: DataContract,
): Promise<InputBatch> {
  const result = await loadAndValidate({ bytes, format, name: source }, contract, { requireTarget: false });
  // Valid rows keep file order, so their numbers are the numbers no rejected row took. (JSON Lines
  // numbers rows by line, blank lines included; a batch with blank lines gets shifted ids.)
  const rejected = new Set(result.quarantined.map((row) => row.row));
  const rowIds = new Float64Array(result.frame.rowCount);
  for (let row = 1, i = 0; i < rowIds.length; row++) if (!rejected.has(row)) rowIds[i++] = row;
  return {
    frame: result.frame,
    rowIds,
    rejectedRows: result.counts.quarantined,
    contractRejects: result.quarantined,
  };
}

/** The model's outputs for the rows it can take; the others with the reason. */
export async function scoreBatch(
  directory: ModelDirectory,
  ref: ModelVersionRef,
  frame: Frame,
): Promise<FrameScores> {
  try {
    return await scoreFrame(directory, frame);
  } catch (error) {
    if (error instanceof FrameMismatchError) {
      throw new StepInputError(
        `models.${ref.alias.toLowerCase()}`,
        `${ref.name} version ${ref.version}: ${error.message}`,
      );
    }
    throw error;
  }
}

export interface ScoredBatch {
  readonly rowIds: Float64Array;
  readonly production: OnnxPrediction;
  readonly challenger: OnnxPrediction | null;
  /** Rows either model could not take, as quarantine records (1-based source rows). */
  readonly quarantined: readonly QuarantinedRow[];
}

/**
 * Scores the batch with Production and, in shadow, the Challenger on the same rows: a row either
 * model cannot take is quarantined for both, so their predictions stay row for row comparable.
 */
export async function scoreWithModels(
  batch: InputBatch,
  production: { directory: ModelDirectory; ref: ModelVersionRef },
  challenger: { directory: ModelDirectory; ref: ModelVersionRef } | null,
): Promise<ScoredBatch> {
  const problems: { rowId: number; problem: RowProblem }[] = [];
  let frame = batch.frame;
  let rowIds = batch.rowIds;
  const keep = (scores: FrameScores) => {
    for (const problem of scores.problems) problems.push({ rowId: rowIds[problem.row] as number, problem });
    frame = takeRows(frame, scores.rows);
    rowIds = Float64Array.from(scores.rows, (row) => rowIds[row] as number);
  };
  let first = await scoreBatch(production.directory, production.ref, frame);
  keep(first);
  let shadow: FrameScores | null = null;
  if (challenger) {
    shadow = await scoreBatch(challenger.directory, challenger.ref, frame);
    if (shadow.problems.length > 0) {
      // Rare: the Challenger knows fewer categories. Score Production again on the rows both take.
      keep(shadow);
      first = await scoreBatch(production.directory, production.ref, frame);
    }
  }
  return {
    rowIds,
    production: first.prediction,
    challenger: shadow?.prediction ?? null,
    quarantined: quarantineRecords(problems, batch),
  };
}

function quarantineRecords(
  problems: { rowId: number; problem: RowProblem }[],
  batch: InputBatch,
): QuarantinedRow[] {
  const byRow = new Map<number, RowProblem[]>();
  for (const { rowId, problem } of problems) byRow.set(rowId, [...(byRow.get(rowId) ?? []), problem]);
  const position = new Map(Array.from(batch.rowIds, (rowId, i) => [rowId, i]));
  return [...byRow.entries()]
    .sort(([a], [b]) => a - b)
    .map(([rowId, rowProblems]) => ({
      row: rowId,
      reasons: rowProblems.map((problem) => ({
        column: problem.column,
        rule: problem.rule,
        value: problem.value,
        message: `row ${rowId}: ${problem.message}`,
      })),
      record: recordAt(batch.frame, position.get(rowId) ?? -1),
    }));
}

function recordAt(frame: Frame, row: number): Record<string, JsonValue> {
  const record: Record<string, JsonValue> = {};
  for (const [name, column] of frame.columns) {
    if (column.kind === 'categorical') record[name] = categoryAt(column, row);
    else {
      const value = column.values[row] as number;
      record[name] = Number.isFinite(value) ? value : null;
    }
  }
  return record;
}

/**
 * One model's predictions as a frame: `row_id`, then `label` and one `probability_<class>` per
 * class for a classifier (`prediction` for a regressor), then `model_version` and `alias`.
 */
export function predictionsFrame(
  rowIds: Float64Array,
  prediction: OnnxPrediction,
  ref: ModelVersionRef,
): Frame {
  const rows = rowIds.length;
  const columns = new Map<string, Column>([['row_id', numericColumn(rowIds)]]);
  if (prediction.task === 'classification') {
    const levels = prediction.classes ?? [...new Set(prediction.labels)].sort();
    const index = new Map(levels.map((level, code) => [level, code]));
    columns.set(
      'label',
      categoricalColumn(
        Int32Array.from(prediction.labels, (label) => index.get(label) ?? -1),
        levels,
      ),
    );
    const { probabilities, classes } = prediction;
    if (probabilities && classes) {
      classes.forEach((name, j) => {
        const values = new Float64Array(rows);
        for (let i = 0; i < rows; i++) values[i] = probabilities[i * classes.length + j] as number;
        columns.set(`probability_${name}`, numericColumn(values));
      });
    }
  } else {
    columns.set('prediction', numericColumn(prediction.values));
  }
  columns.set('model_version', categoricalColumn(new Int32Array(rows), [ref.version]));
  columns.set('alias', categoricalColumn(new Int32Array(rows), [ref.alias]));
  return { rowCount: rows, columns };
}

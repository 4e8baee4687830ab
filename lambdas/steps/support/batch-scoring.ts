/**
 * Scoring one input object with one pinned model version: the rows are read under the data
 * contract the model was trained with (its `data_contract/input_schema.json`), rows that break it
 * are counted and left out, and the rest go through the exported ONNX graph with onnxruntime-node
 * — the same artifact and runtime the predict API serves.
 */
import {
  type Column,
  categoricalColumn,
  type DataContract,
  type DataFormat,
  type Frame,
  loadAndValidate,
  numericColumn,
  parseContract,
} from '../../core/data';
import { type OnnxPrediction, predictWithOnnx } from '../../core/lifecycle/onnx-holdout';
import type { ModelDirectory } from '../../core/model-format';
import type { ModelVersionRef } from '../step-io';
import { StepInputError } from './step-errors';

export interface InputBatch {
  /** The rows that meet the contract, in file order. */
  readonly frame: Frame;
  /** The 1-based source row number of each row of `frame` (as quarantine reasons number rows). */
  readonly rowIds: Float64Array;
  readonly rejectedRows: number;
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
  return { frame: result.frame, rowIds, rejectedRows: result.counts.quarantined };
}

/** The model's outputs for every row of the batch. */
export function scoreBatch(
  directory: ModelDirectory,
  contract: DataContract,
  frame: Frame,
): Promise<OnnxPrediction> {
  // The raw rows, by column name: per-column graphs take them as they are, earlier single-tensor
  // ones as ordinal codes (lambdas/core/lifecycle/frame-feeds.ts). The contract read them.
  void contract;
  return predictWithOnnx(directory, frame);
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

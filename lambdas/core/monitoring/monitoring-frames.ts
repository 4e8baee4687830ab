/**
 * The reference and current frames a monitoring run compares, and which of their columns are
 * features and which are model outputs.
 *
 * With a data contract, both sides are read by the contract's column *types* only: every column
 * may be missing, and bounds and allowed values are not enforced. Drift is the point of the run:
 * a temperature over the contract's max or a category it never listed is what must show up in
 * the statistics (`new_categories`), not vanish into a quarantine. Cells the types cannot read at
 * all ("abc" in a number column) drop their row, and a note counts them. A contract column the
 * file lacks is left out of that frame, so its drift entry says it is missing instead of the run
 * failing. Without a contract, column types are inferred.
 *
 * Predictions (labels, probabilities or values) come as their own file, e.g. the inference
 * pipeline's (`row_id`, `label`, `probability_<class>` … or `prediction`, `model_version`,
 * `alias`); its output columns join the current frame as prediction columns (`row_id`,
 * `model_version` and `alias` are bookkeeping and left out). Their baseline is the reference
 * predictions when given; otherwise `label`, `prediction` or a column named after the contract's
 * target is compared with the reference's target column: the label or value distribution the
 * model was trained on. Probabilities have no such baseline without reference predictions.
 * Prediction columns need not have as many rows as the data: drift compares distributions, not
 * rows, and every statistic reads each column's own length. A prediction column whose inferred
 * type differs from its baseline's (labels 0/1 read as numbers, the target's categories "0"/"1")
 * is compared as the baseline's type (see `likeBaseline`).
 *
 * Each frame codes its categories its own way (levels sorted, unused ones dropped); the drift
 * module matches them by their strings, so the two frames need not agree on codes.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import {
  type Column,
  categoricalColumn,
  type DataContract,
  DataError,
  type Frame,
  featureNames,
  loadAndValidate,
  loadFrame,
  numericColumn,
} from '../data';
import { asInputError, type MonitoringInputRole } from './monitoring-errors';
import { type InputBytes, type MonitoringDataInput, readMonitoringInput } from './monitoring-input';

/** Columns of a predictions file that say which row and model, not what was predicted. */
const BOOKKEEPING_COLUMNS = new Set(['row_id', 'model_version', 'alias']);
/** Prediction columns whose baseline, without reference predictions, is the reference's target. */
const TARGET_LIKE_OUTPUTS = new Set(['label', 'prediction']);

/**
 * What a monitoring run compares, each data input as `Input`: where it is in a request
 * (`MonitoringRequest`), its bytes once read (`MonitoringFrameInputs`).
 */
export interface MonitoringInputs<Input> {
  readonly reference: Input;
  /** The newest window of data. */
  readonly current: Input;
  /** The model's outputs on the current window: labels, probabilities or values. */
  readonly predictions?: Input;
  /** The model's outputs on the reference set: the predictions' baseline (see above). */
  readonly referencePredictions?: Input;
  readonly contract?: DataContract;
  /** The features to compare. @default the contract's features, else every reference column */
  readonly columns?: readonly string[];
  /** Which columns of the predictions file are model outputs. @default those that are not features or bookkeeping */
  readonly predictionColumns?: readonly string[];
}

export type MonitoringFrameInputs = MonitoringInputs<InputBytes>;

export interface RowCounts {
  /** Rows in the file. */
  readonly input: number;
  /** Rows kept (those whose cells the column types could read). */
  readonly valid: number;
}

export interface MonitoringFrames {
  readonly reference: Frame;
  readonly current: Frame;
  readonly features: readonly string[];
  readonly predictionColumns: readonly string[];
  readonly rows: {
    readonly reference: RowCounts;
    readonly current: RowCounts;
    readonly predictions?: RowCounts;
  };
  /** What loading left out or assumed, in words; they lead the drift result's notes. */
  readonly notes: readonly string[];
}

/** The contract as monitoring reads it: the same columns and types, nothing required or bounded. */
function typesOnly(contract: DataContract): DataContract {
  return {
    ...contract,
    columns: contract.columns.map((column) => ({ name: column.name, type: column.type, nullable: true })),
  };
}

function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes)
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  return true;
}

/** A frame with no rows and the given columns, for a window that is an empty object or file. */
function emptyFrame(kinds: ReadonlyMap<string, Column['kind']>): Frame {
  const columns = new Map<string, Column>();
  for (const [name, kind] of kinds) {
    columns.set(
      name,
      kind === 'numeric' ? numericColumn(new Float64Array(0)) : categoricalColumn(new Int32Array(0), []),
    );
  }
  return { rowCount: 0, columns };
}

function contractKinds(contract: DataContract): Map<string, Column['kind']> {
  return new Map(
    contract.columns.map((c) => [c.name, c.type === 'category' ? 'categorical' : 'numeric'] as const),
  );
}

function frameKinds(frame: Frame): Map<string, Column['kind']> {
  return new Map([...frame.columns].map(([name, column]) => [name, column.kind] as const));
}

interface LoadedSide {
  readonly frame: Frame;
  readonly rows: RowCounts;
  readonly notes: string[];
}

async function loadByContract(input: InputBytes, contract: DataContract, role: MonitoringInputRole) {
  let view = typesOnly(contract);
  const missing: string[] = [];
  for (;;) {
    try {
      const result = await loadAndValidate(
        { bytes: input.bytes, format: input.format, name: input.source },
        view,
        { requireTarget: false },
      );
      const notes: string[] = [];
      if (missing.length > 0) {
        notes.push(
          `the ${role} data has no column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`,
        );
      }
      const { quarantined, counts } = result;
      const first = quarantined[0];
      if (first) {
        notes.push(
          `${counts.quarantined} of ${counts.input} ${role} rows have cells the contract's types cannot read and were left out (first: row ${first.row}: ${first.reasons[0]?.message ?? 'unreadable'})`,
        );
      }
      return { frame: result.frame, rows: { input: counts.input, valid: counts.valid }, notes };
    } catch (error) {
      const column = error instanceof DataError && error.code === 'MISSING_COLUMN' ? error.field : undefined;
      if (column !== undefined && view.columns.some((c) => c.name === column)) {
        // Left out of this side only: its drift entry then says which side lacks it.
        missing.push(column);
        view = {
          ...view,
          columns: view.columns.filter((c) => c.name !== column),
          ...(view.time_column === column ? { time_column: undefined } : {}),
        };
        continue;
      }
      throw asInputError(error, role, input.source);
    }
  }
}

async function loadSide(
  input: InputBytes,
  role: MonitoringInputRole,
  contract: DataContract | undefined,
  emptyKinds: () => ReadonlyMap<string, Column['kind']>,
): Promise<LoadedSide> {
  if (isBlank(input.bytes)) {
    // An empty object is an empty window (nothing arrived), not a malformed file.
    return { frame: emptyFrame(emptyKinds()), rows: { input: 0, valid: 0 }, notes: [] };
  }
  if (contract) return loadByContract(input, contract, role);
  try {
    const frame = await loadFrame({ bytes: input.bytes, format: input.format, name: input.source });
    return { frame, rows: { input: frame.rowCount, valid: frame.rowCount }, notes: [] };
  } catch (error) {
    throw asInputError(error, role, input.source);
  }
}

function allMissing(column: Column): boolean {
  if (column.kind === 'numeric') return column.values.every(Number.isNaN);
  return column.codes.every((code) => code < 0);
}

/**
 * Without a contract an all-empty column infers as numeric: give it the reference's kind, so its
 * drift entry says every value is missing rather than that the types differ.
 */
function alignEmptyColumns(frame: Frame, like: Frame): Frame {
  let columns: Map<string, Column> | undefined;
  for (const [name, column] of frame.columns) {
    const model = like.columns.get(name);
    if (!model || model.kind === column.kind || !allMissing(column)) continue;
    const length = column.kind === 'numeric' ? column.values.length : column.codes.length;
    columns ??= new Map(frame.columns);
    columns.set(
      name,
      model.kind === 'numeric'
        ? numericColumn(new Float64Array(length).fill(Number.NaN))
        : categoricalColumn(new Int32Array(length).fill(-1), []),
    );
  }
  return columns ? { rowCount: frame.rowCount, columns } : frame;
}

/**
 * A predictions file is read without a contract, so its column types are inferred from the
 * cells: class labels 0/1/2 read as numbers while their baseline, the reference's target read by
 * the contract, holds the categories "0", "1", "2". Such a column is compared as its baseline's
 * kind: numbers as their decimal text (4 → "4"), or categories as numbers when every one of them
 * is a number. Null when the kinds already agree or the categories are not all numbers (the drift
 * entry then reports the mismatch).
 */
function likeBaseline(column: Column, baseline: Column): Column | null {
  if (column.kind === baseline.kind) return null;
  if (column.kind === 'numeric') {
    const levels: string[] = [];
    const codeOf = new Map<string, number>();
    const codes = new Int32Array(column.values.length);
    for (let i = 0; i < codes.length; i++) {
      const value = column.values[i] as number;
      if (!Number.isFinite(value)) {
        codes[i] = -1;
        continue;
      }
      const text = String(value);
      let code = codeOf.get(text);
      if (code === undefined) {
        code = levels.push(text) - 1;
        codeOf.set(text, code);
      }
      codes[i] = code;
    }
    return categoricalColumn(codes, levels);
  }
  const numbers = column.levels.map((level) => (level.trim() === '' ? Number.NaN : Number(level)));
  if (!numbers.every(Number.isFinite)) return null;
  return numericColumn(
    Float64Array.from(column.codes, (code) => (code < 0 ? Number.NaN : (numbers[code] as number))),
  );
}

function withColumns(frame: Frame, added: ReadonlyMap<string, Column>): Frame {
  if (added.size === 0) return frame;
  return { rowCount: frame.rowCount, columns: new Map([...frame.columns, ...added]) };
}

/** Loads both sides (and predictions) and decides which columns are compared in which role. */
export async function loadMonitoringFrames(inputs: MonitoringFrameInputs): Promise<MonitoringFrames> {
  const { contract } = inputs;
  const notes: string[] = [];
  const reference = await loadSide(inputs.reference, 'reference', contract, () =>
    contract ? contractKinds(contract) : new Map(),
  );
  const current = await loadSide(inputs.current, 'current', contract, () =>
    contract ? contractKinds(contract) : frameKinds(reference.frame),
  );
  notes.push(...reference.notes, ...current.notes);
  let referenceFrame = reference.frame;
  let currentFrame = contract ? current.frame : alignEmptyColumns(current.frame, reference.frame);

  const features = [
    ...(inputs.columns ?? (contract ? featureNames(contract) : [...referenceFrame.columns.keys()])),
  ];
  let predictionColumns: string[] = [];
  let predictionRows: RowCounts | undefined;
  if (inputs.predictions) {
    const predictions = await loadSide(inputs.predictions, 'predictions', undefined, () => new Map());
    predictionRows = predictions.rows;
    const outputs = inputs.predictionColumns
      ? [...inputs.predictionColumns]
      : [...predictions.frame.columns.keys()].filter(
          (name) => !features.includes(name) && !BOOKKEEPING_COLUMNS.has(name),
        );
    const currentOutputs = new Map<string, Column>();
    for (const name of outputs) {
      const column = predictions.frame.columns.get(name);
      if (column) currentOutputs.set(name, column);
      else notes.push(`the predictions have no column "${name}"`);
    }
    predictionColumns = [...currentOutputs.keys()];

    const baselines = new Map<string, Column>();
    if (inputs.referencePredictions) {
      const referencePredictions = await loadSide(
        inputs.referencePredictions,
        'reference predictions',
        undefined,
        () => frameKinds(predictions.frame),
      );
      for (const name of predictionColumns) {
        const column = referencePredictions.frame.columns.get(name);
        if (column) baselines.set(name, column);
      }
    } else {
      const target = contract?.target;
      const targetColumn = target !== undefined ? referenceFrame.columns.get(target) : undefined;
      for (const name of predictionColumns) {
        // A column of that name in the reference (the target itself, say) is its own baseline.
        if (referenceFrame.columns.has(name)) continue;
        if (TARGET_LIKE_OUTPUTS.has(name) && targetColumn) baselines.set(name, targetColumn);
        else {
          notes.push(
            `prediction column "${name}" has no baseline in the reference: give reference predictions to compare it`,
          );
        }
      }
    }
    referenceFrame = withColumns(referenceFrame, baselines);
    for (const [name, column] of currentOutputs) {
      const baseline = referenceFrame.columns.get(name);
      const aligned = baseline && likeBaseline(column, baseline);
      if (!aligned) continue;
      currentOutputs.set(name, aligned);
      notes.push(
        `prediction column "${name}" was read as ${column.kind === 'numeric' ? 'numbers' : 'categories'} and is compared as ${aligned.kind === 'numeric' ? 'numbers' : 'categories'}, as its baseline in the reference`,
      );
    }
    // A prediction named like the target replaces the current window's actual labels, if any:
    // only the prediction is compared.
    currentFrame = withColumns(currentFrame, currentOutputs);
  }

  return {
    reference: referenceFrame,
    current: currentFrame,
    features: features.filter((name) => !predictionColumns.includes(name)),
    predictionColumns,
    rows: {
      reference: reference.rows,
      current: current.rows,
      ...(predictionRows && { predictions: predictionRows }),
    },
    notes,
  };
}

/**
 * Reads each input (a path or an S3 object) and loads the frames: what a monitoring run and
 * `mlops drift compute` both do. Returns the bytes' sources beside the frames for labels.
 */
export async function readMonitoringFrames(
  inputs: MonitoringInputs<MonitoringDataInput>,
  s3?: S3Client,
): Promise<{
  frames: MonitoringFrames;
  reference: InputBytes;
  current: InputBytes;
  predictions: InputBytes | undefined;
}> {
  const [reference, current, predictions, referencePredictions] = await Promise.all([
    readMonitoringInput(inputs.reference, 'reference', s3),
    readMonitoringInput(inputs.current, 'current', s3),
    inputs.predictions && readMonitoringInput(inputs.predictions, 'predictions', s3),
    inputs.referencePredictions &&
      readMonitoringInput(inputs.referencePredictions, 'reference predictions', s3),
  ]);
  const frames = await loadMonitoringFrames({
    reference,
    current,
    ...(predictions && { predictions }),
    ...(referencePredictions && { referencePredictions }),
    ...(inputs.contract && { contract: inputs.contract }),
    ...(inputs.columns && { columns: inputs.columns }),
    ...(inputs.predictionColumns && { predictionColumns: inputs.predictionColumns }),
  });
  return { frames, reference, current, predictions: predictions || undefined };
}

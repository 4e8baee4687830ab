/**
 * Frames (the data module's shape) → the trainers' dense input, with categorical codes pinned to
 * levels fixed once for the whole dataset.
 *
 * Pinning matters because a frame read back from a split file gets its levels from the rows it
 * holds (sorted, unused ones dropped): a test split without `virginica` would otherwise number
 * its classes differently from the training split, and the metrics would compare wrong labels.
 */
import { type DataContract, fitPreprocessing, labelVector } from '../data';
import { type Column, categoricalColumn, categoryAt, type Frame } from '../data/frame';
import type { ExampleCell } from '../model-format/input-example';
import type { InputColumn } from '../training/model-types';
import { expandedFeatureNames, preprocessFrame } from '../training/preprocessing';
import type { TrainingData } from '../training/training-data';
import { LifecycleError } from './errors';

/** Levels per categorical column (features and a categorical target), as the whole dataset has them. */
export type CategoryLevels = Readonly<Record<string, readonly string[]>>;

export function categoryLevelsOf(frame: Frame): CategoryLevels {
  const levels: Record<string, readonly string[]> = {};
  for (const [name, column] of frame.columns)
    if (column.kind === 'categorical') levels[name] = [...column.levels];
  return levels;
}

/** The frame with each categorical column re-coded onto `levels` (columns not named keep theirs). */
export function alignCategoryLevels(frame: Frame, levels: CategoryLevels): Frame {
  const columns = new Map<string, Column>();
  for (const [name, column] of frame.columns) {
    const pinned = levels[name];
    if (column.kind !== 'categorical' || !pinned || sameLevels(column.levels, pinned)) {
      columns.set(name, column);
      continue;
    }
    const index = new Map(pinned.map((level, code) => [level, code]));
    const remap = column.levels.map((level) => {
      const code = index.get(level);
      if (code === undefined) {
        throw new LifecycleError(
          `column "${name}" has value "${level}", which the dataset's levels do not include`,
        );
      }
      return code;
    });
    const codes = Int32Array.from(column.codes, (code) => (code < 0 ? -1 : (remap[code] as number)));
    columns.set(name, categoricalColumn(codes, pinned));
  }
  return { rowCount: frame.rowCount, columns };
}

/**
 * The trainers' input: the contract's features preprocessed (imputation and one-hot fitted on
 * these rows, kept as `inputs` for the model), the raw rows (`raw`, so a model can score them
 * with its own preprocessing), the target as labels or values. `classes` pins the class order
 * too (an integer or boolean target is numeric in the frame, so its classes come from the values
 * present, not from levels).
 */
export function toTrainingData(
  frame: Frame,
  contract: DataContract,
  levels: CategoryLevels,
  classes?: readonly string[],
): TrainingData {
  const aligned = alignCategoryLevels(frame, levels);
  const inputs = fitPreprocessing(aligned, contract);
  const features = expandedFeatureNames(inputs);
  const y = labelVector(aligned, contract);
  const matrix = {
    x: preprocessFrame(inputs, aligned),
    rows: aligned.rowCount,
    cols: features.length,
    features,
    inputs,
    raw: aligned,
  };
  if (y.task === 'regression') return { ...matrix, task: 'regression', y: y.values };
  if (!classes || sameLevels(y.classes, classes)) {
    return { ...matrix, task: 'classification', y: y.classIndex, classes: y.classes };
  }
  const index = new Map(classes.map((name, i) => [name, i]));
  const remap = y.classes.map((name) => {
    const code = index.get(name);
    if (code === undefined)
      throw new LifecycleError(`class "${name}" of "${contract.target}" is not one of the dataset's classes`);
    return code;
  });
  return {
    ...matrix,
    task: 'classification',
    y: Int32Array.from(y.classIndex, (i) => remap[i] as number),
    classes,
  };
}

/**
 * The first `count` raw rows of the model's inputs (its input example), as a caller sends them:
 * numbers, booleans for a `bool` input, category strings; null when missing.
 */
export function exampleRows(frame: Frame, inputs: readonly InputColumn[], count: number): ExampleCell[][] {
  const rows = Math.min(count, frame.rowCount);
  return Array.from({ length: rows }, (_, i) =>
    inputs.map((input) => {
      const column = frame.columns.get(input.name);
      if (!column) throw new LifecycleError(`the input example has no column "${input.name}"`);
      if (column.kind === 'categorical') return categoryAt(column, i);
      const value = column.values[i] as number;
      if (Number.isNaN(value)) return null;
      return input.kind === 'numeric' && input.dtype === 'bool' ? value !== 0 : value;
    }),
  );
}

function sameLevels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((level, i) => level === b[i]);
}

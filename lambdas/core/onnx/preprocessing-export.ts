/**
 * The model's preprocessing as graph nodes (the same steps as training/preprocessing.ts):
 *
 *   numeric input [N] ─ Cast(float) ─ Unsqueeze(1) ─┐
 *   string input [N] ─ OneHotEncoder(levels, zeros=1) ─┤ Concat(axis 1) ─ Imputer(means) ─► [N, D]
 *
 * OneHotEncoder with `zeros=1` answers an all-zero row for a value outside its levels (and for
 * "", missing), instead of failing: scikit-learn's handle_unknown='ignore'. The Imputer replaces
 * NaN by the training mean of each column (one-hot columns are never NaN; their value is 0).
 */
import type { InputColumn } from '../training/model-types';
import { attribute, int64Initializer, mlNode, node } from './graph-builder';
import { INTERNAL_NAME_PREFIX } from './graph-contract';
import { type NodeProto, TensorDataType, type TensorProto } from './proto-messages';

/** The int64 tensor [1]: the axis Unsqueeze adds and Squeeze removes. */
export const AXIS_ONE = `${INTERNAL_NAME_PREFIX}axis_1`;

export interface GraphPart {
  readonly nodes: NodeProto[];
  readonly initializers: TensorProto[];
  /** The value the next part reads: here the estimator's [N, D] float matrix. */
  readonly output: string;
}

export function preprocessingNodes(inputs: readonly InputColumn[]): GraphPart {
  const nodes: NodeProto[] = [];
  const columns = inputs.map((input, i) => {
    const column = `${INTERNAL_NAME_PREFIX}column/${i}`;
    if (input.kind === 'category') {
      nodes.push(
        mlNode(
          'OneHotEncoder',
          [input.name],
          [column],
          [attribute.strings('cats_strings', input.levels), attribute.int('zeros', 1)],
        ),
      );
      return column;
    }
    const cast = `${INTERNAL_NAME_PREFIX}float/${i}`;
    nodes.push(node('Cast', [input.name], [cast], [attribute.int('to', TensorDataType.FLOAT)]));
    nodes.push(node('Unsqueeze', [cast, AXIS_ONE], [column]));
    return column;
  });
  const concatenated = `${INTERNAL_NAME_PREFIX}concatenated`;
  nodes.push(node('Concat', columns, [concatenated], [attribute.int('axis', 1)]));
  const means = inputs.flatMap((input) =>
    input.kind === 'numeric' ? [input.mean] : input.levels.map(() => 0),
  );
  const initializers = [int64Initializer(AXIS_ONE, [1])];
  // A model fitted on a bare matrix imputes nothing (model-validation.ts: all means or none).
  if (means.every((mean) => mean === null)) return { nodes, initializers, output: concatenated };
  const imputed = `${INTERNAL_NAME_PREFIX}features`;
  nodes.push(
    mlNode(
      'Imputer',
      [concatenated],
      [imputed],
      [
        attribute.floats(
          'imputed_value_floats',
          means.map((mean) => mean ?? 0),
        ),
        attribute.float('replaced_value_float', Number.NaN),
      ],
    ),
  );
  return { nodes, initializers, output: imputed };
}

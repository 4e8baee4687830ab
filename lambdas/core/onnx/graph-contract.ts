/**
 * The graph contract every exported model keeps, so serving code never inspects the model kind,
 * and so `mlflow.pyfunc` maps a DataFrame by column name:
 *
 * - inputs: one per raw input column (model.inputs), named as the column, rank 1 `[N]`: `double`
 *   for numbers (NaN = missing), `int64` / `bool` for non-nullable integer / boolean columns,
 *   `string` for categories ("" or an unknown value = no information: all-zero one-hot);
 * - outputs, all rank 1 (mlflow.onnx's pyfunc flattens every output into a DataFrame column):
 *   classifiers `label` (string) and one `probability_<class>` (float) per class, in `classes`
 *   order; regressors `prediction` (float).
 *
 * Plain tensors rather than ZipMap's sequence of maps: onnxruntime-node returns only tensors.
 * Models exported before this contract took one float tensor `input` [N, F] and answered
 * `label` + `probabilities` [N, K] or `variable` [N, T]: the LEGACY_* names, for readers of those.
 */
import type { FittedModel, InputColumn } from '../training/model-types';
import { modelInputs } from '../training/preprocessing';

export const LABEL_OUTPUT = 'label';
export const PREDICTION_OUTPUT = 'prediction';
export const PROBABILITY_OUTPUT_PREFIX = 'probability_';

/** The earlier contract's single input and its outputs (models registered before per-column inputs). */
export const LEGACY_INPUT_NAME = 'input';
export const LEGACY_PROBABILITIES_OUTPUT = 'probabilities';
export const LEGACY_VARIABLE_OUTPUT = 'variable';

/** The batch dimension's symbolic name. */
export const BATCH_DIMENSION = 'N';

/** Names of the graph's intermediate values start with this; an input column may not. */
export const INTERNAL_NAME_PREFIX = 'mlops/';

export type GraphElementType = 'float' | 'double' | 'int64' | 'bool' | 'string';

export interface GraphTensor {
  readonly name: string;
  readonly elementType: GraphElementType;
  /** `null` is the batch dimension. */
  readonly shape: readonly (number | null)[];
}

export interface GraphContract {
  readonly inputs: readonly GraphTensor[];
  readonly outputs: readonly GraphTensor[];
}

/** What the estimator node writes: label + probabilities [N, K] (classifiers), values [N, 1] (regressors). */
export interface EstimatorOutputs {
  readonly label: string;
  readonly probabilities: string;
  readonly values: string;
}

export function probabilityOutputName(className: string): string {
  return `${PROBABILITY_OUTPUT_PREFIX}${className}`;
}

/** The element type the graph takes an input column as. */
export function inputElementType(input: InputColumn): GraphElementType {
  return input.kind === 'category' ? 'string' : input.dtype;
}

/** The inputs and outputs `exportToOnnx` gives this model's graph. */
export function graphContractOf(model: FittedModel): GraphContract {
  const inputs = modelInputs(model).map(
    (input): GraphTensor => ({ name: input.name, elementType: inputElementType(input), shape: [null] }),
  );
  if (model.task === 'classification') {
    return {
      inputs,
      outputs: [
        { name: LABEL_OUTPUT, elementType: 'string', shape: [null] },
        ...(model.classes ?? []).map(
          (name): GraphTensor => ({ name: probabilityOutputName(name), elementType: 'float', shape: [null] }),
        ),
      ],
    };
  }
  return { inputs, outputs: [{ name: PREDICTION_OUTPUT, elementType: 'float', shape: [null] }] };
}

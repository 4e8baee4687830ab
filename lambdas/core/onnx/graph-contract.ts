/**
 * The graph contract every exported model keeps, so serving code never inspects the model kind:
 * one float input `input` [N, F] (features in the model's order); classifiers answer `label`
 * (string [N]) and `probabilities` (float [N, K], columns in `classes` order); regressors answer
 * `variable` (float [N, T], T = 1 for the usual single target).
 *
 * Plain tensors rather than ZipMap's sequence of maps: onnxruntime-node returns only tensors.
 */
import type { FittedModel } from '../training/model-types';
import { outputWidthOf } from './model-validation';

export const INPUT_NAME = 'input';
export const LABEL_OUTPUT = 'label';
export const PROBABILITIES_OUTPUT = 'probabilities';
export const VARIABLE_OUTPUT = 'variable';

/** The batch dimension's symbolic name. */
export const BATCH_DIMENSION = 'N';

export interface GraphTensor {
  readonly name: string;
  readonly elementType: 'float' | 'string';
  /** `null` is the batch dimension. */
  readonly shape: readonly (number | null)[];
}

export interface GraphContract {
  readonly input: GraphTensor;
  readonly outputs: readonly GraphTensor[];
}

/** The inputs and outputs `exportToOnnx` gives this model's graph. */
export function graphContractOf(model: FittedModel): GraphContract {
  const input: GraphTensor = { name: INPUT_NAME, elementType: 'float', shape: [null, model.features.length] };
  if (model.task === 'classification') {
    const classCount = model.classes?.length ?? 0;
    return {
      input,
      outputs: [
        { name: LABEL_OUTPUT, elementType: 'string', shape: [null] },
        { name: PROBABILITIES_OUTPUT, elementType: 'float', shape: [null, classCount] },
      ],
    };
  }
  return {
    input,
    outputs: [{ name: VARIABLE_OUTPUT, elementType: 'float', shape: [null, outputWidthOf(model)] }],
  };
}

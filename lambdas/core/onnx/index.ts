/**
 * ONNX export of the project's fitted models, and reading of any ONNX model a server meets.
 */

export { float32AtOrBelow } from '../training/float32-threshold';
export { OnnxExportError, OnnxFormatError } from './errors';
export {
  exportToOnnx,
  ONNX_IR_VERSION,
  ONNX_METADATA_KEYS,
  ONNX_OPSETS,
  type OnnxExportOptions,
  PRODUCER_NAME,
} from './export-model';
export { inlineExternalData } from './external-data';
export {
  BATCH_DIMENSION,
  type GraphContract,
  type GraphElementType,
  type GraphTensor,
  graphContractOf,
  inputElementType,
  LABEL_OUTPUT,
  LEGACY_INPUT_NAME,
  LEGACY_PROBABILITIES_OUTPUT,
  LEGACY_VARIABLE_OUTPUT,
  PREDICTION_OUTPUT,
  PROBABILITY_OUTPUT_PREFIX,
  probabilityOutputName,
} from './graph-contract';
export {
  inspectOnnx,
  type OnnxElementType,
  type OnnxModelInfo,
  type OnnxValueInfo,
} from './inspect-model';
export { validateFittedModel } from './model-validation';

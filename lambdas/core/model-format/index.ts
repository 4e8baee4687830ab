/**
 * MLflow model directories in the `onnx` flavor: writing ours, reading anyone's.
 */
export { ModelFormatError, type ModelFormatErrorCode } from './errors';
export {
  dataframeExample,
  type ExampleCell,
  INPUT_EXAMPLE_FILE,
  type InputExample,
  type SavedInputExampleInfo,
  SERVING_INPUT_EXAMPLE_FILE,
} from './input-example';
export {
  type MetadataValue,
  MLMODEL_FILE,
  type MlModelDocument,
  type OnnxFlavorConfig,
  type PythonFunctionFlavorConfig,
  parseMlModel,
  serializeMlModel,
} from './mlmodel';
export { type ModelDirectory, readModelDirectory, readModelFiles } from './model-directory-reader';
export {
  buildModelDirectory,
  DATA_CONTRACT_FILE,
  MLFLOW_VERSION,
  MODEL_METADATA_KEYS,
  type ModelDirectoryOptions,
  type ModelFiles,
  ONNX_MODEL_FILE,
  ONNX_VERSION,
  writeModelDirectory,
} from './model-directory-writer';
export {
  CONDA_FILE,
  DEFAULT_PYTHON_ENVIRONMENT,
  PYTHON_ENV_FILE,
  type PythonEnvironment,
  REQUIREMENTS_FILE,
} from './python-environment';
export {
  type ColumnSpec,
  type ModelSignature,
  parseSignature,
  type SignatureSpec,
  signatureOf,
  signatureToMlflow,
  type TensorSpec,
} from './signature';

/**
 * Data: the data contract, loaders and writers (CSV, JSON, JSON Lines, Parquet), validation with
 * quarantine, splits, dataset versions (content digests) and the trainers' feature matrix.
 */

// The bundled datasets and name-or-path resolution live with the data files, in ../datasets.
export {
  type BundledDataset,
  bundledDatasets,
  defaultDatasetsDir,
  type ResolveDatasetOptions,
  type ResolvedDataset,
  resolveDataset,
} from '../datasets';
export type { Rule, RuleCode } from './cell-converters';
export { type FrameWriteOptions, frameColumnTypes } from './column-types';
export {
  COLUMN_TYPES,
  CONTRACT_FILE,
  type ColumnType,
  type ContractColumn,
  contractColumn,
  contractVersion,
  type DataContract,
  featureNames,
  parseContract,
  parseContractJson,
  readContractFile,
  type Task,
} from './contract';
export { frameToCsv, readCsvRows } from './csv-format';
export { datasetVersion, frameDigest } from './digest';
export { DataError, type DataErrorCode } from './errors';
export {
  type FeatureMatrix,
  featureMatrix,
  fitPreprocessing,
  type Labels,
  labelVector,
  MAX_CATEGORY_LEVELS,
  type TrainingData,
  trainingData,
} from './features';
export {
  type CategoricalColumn,
  type Column,
  categoricalColumn,
  categoryAt,
  type Frame,
  type NumericColumn,
  numericColumn,
  takeRows,
} from './frame';
export {
  DEFAULT_MAX_CATEGORIES,
  type InferContractOptions,
  type InferredContract,
  inferContract,
} from './infer-contract';
export { frameToJson, frameToJsonLines } from './json-format';
export {
  DATA_FORMATS,
  type DataFormat,
  type DataInput,
  dataFormatOf,
  type LoadFrameOptions,
  loadAndValidate,
  loadFrame,
  validateRecords,
} from './load';
export { frameToParquet } from './parquet-format';
export {
  countReasons,
  type JsonValue,
  type QuarantinedRow,
  quarantineToJsonLines,
  type RowReason,
} from './quarantine';
export {
  type DatasetSplit,
  DEFAULT_SEED,
  DEFAULT_TEST_FRACTION,
  type SplitDigests,
  type SplitOptions,
  splitFrame,
} from './split';
export type { ValidationCounts, ValidationOptions, ValidationResult } from './validation';
export { encodeFrame, writeFrameFile, writeQuarantineFile } from './write';

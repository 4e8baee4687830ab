/**
 * What serving needs from an MLflow `onnx`-flavor model directory, read with the shared
 * model-format reader: the self-contained ONNX bytes, the input columns with their types, and
 * a scoring request built from the logged input example (for the warm-up, and to show callers
 * a valid request). A directory that does not read is a permanent problem for that version.
 */
import {
  type ModelDirectory as FormatDirectory,
  ModelFormatError,
  readModelDirectory,
} from '../model-format';
import type { OnnxModelInfo } from '../onnx';
import { describeError, ModelProblem } from './errors';
import type { InputHints, SignatureColumn } from './model-inputs';
import type { ModelFiles } from './registry';

export interface ServableDirectory {
  /** model.onnx with any external tensor data inlined. */
  readonly onnx: Uint8Array;
  readonly onnxInfo: OnnxModelInfo;
  readonly runId?: string;
  /** How the model's input columns are named and typed (model-inputs.ts). */
  readonly inputHints: InputHints;
  /** A request body in one of MLflow's scoring shapes, from the logged input example. */
  readonly exampleRequest?: unknown;
  /** The MLmodel input signature's kind: MLflow's scoring server shapes its answers by it. */
  readonly signatureKind: SignatureKind;
}

export type SignatureKind = 'columns' | 'tensor' | 'none';

/** ONNX metadata key of the known categories per input column, {column: [levels]} as JSON. */
export const FEATURE_CATEGORIES_KEY = 'feature_categories';

/** Data contract type names, as JSON Schema and common contract formats spell them. */
const CONTRACT_TYPES: ReadonlySet<string> = new Set([
  'number',
  'float',
  'double',
  'integer',
  'int',
  'long',
  'boolean',
  'bool',
  'string',
  'category',
  'datetime',
]);

export function readServableDirectory(files: ModelFiles): ServableDirectory {
  let directory: FormatDirectory;
  try {
    directory = readModelDirectory(files);
  } catch (error) {
    if (error instanceof ModelFormatError) {
      const code = error.code === 'UNSUPPORTED_FLAVOR' ? 'MODEL_UNSUPPORTED' : 'MODEL_CORRUPT';
      throw new ModelProblem(code, error.message, true, { cause: error });
    }
    throw new ModelProblem(
      'MODEL_CORRUPT',
      `the model directory does not read: ${describeError(error)}`,
      true,
      {
        cause: error,
      },
    );
  }
  const exampleRequest = exampleRequestOf(directory);
  return {
    onnx: directory.onnxBytes,
    onnxInfo: directory.onnx,
    ...(directory.mlmodel.runId ? { runId: directory.mlmodel.runId } : {}),
    inputHints: inputHintsOf(directory),
    ...(exampleRequest !== undefined ? { exampleRequest } : {}),
    signatureKind: signatureKindOf(directory),
  };
}

function signatureKindOf(directory: FormatDirectory): SignatureKind {
  const inputs = directory.signature?.inputs ?? [];
  if (inputs.length === 0) return 'none';
  return inputs.every((spec) => spec.kind === 'column') ? 'columns' : 'tensor';
}

/**
 * A column signature gives names, types and optional columns. Otherwise (our older models declare
 * a tensor signature) the reader's feature names are used, typed by the data contract.
 */
export function inputHintsOf(directory: FormatDirectory): InputHints {
  const inputs = directory.signature?.inputs ?? [];
  const signatureColumns: SignatureColumn[] = [];
  for (const spec of inputs) {
    if (spec.kind === 'column' && spec.name !== null) {
      signatureColumns.push({ name: spec.name, type: spec.type, required: spec.required });
    }
  }
  const featureCategories = featureCategoriesOf(directory.onnx.metadata[FEATURE_CATEGORIES_KEY]);
  return {
    ...(signatureColumns.length > 0 && signatureColumns.length === inputs.length ? { signatureColumns } : {}),
    ...(directory.featureNames ? { featureNames: directory.featureNames } : {}),
    contractTypes: contractTypesOf(directory.dataContract),
    ...(featureCategories ? { featureCategories } : {}),
  };
}

/** `{column: [levels]}`; anything else under the key (a foreign exporter's) is ignored. */
function featureCategoriesOf(raw: string | undefined): Record<string, string[]> | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const categories: Record<string, string[]> = {};
  for (const [column, levels] of Object.entries(parsed)) {
    if (Array.isArray(levels) && levels.every((level) => typeof level === 'string'))
      categories[column] = levels;
  }
  return categories;
}

/**
 * Feature types from `data_contract/input_schema.json` when it is in a shape we recognise: a
 * JSON Schema object (`properties`) or a list of `{name, type}` under fields/columns/features.
 * Anything else leaves every feature a plain number, which is what a float tensor takes anyway.
 */
function contractTypesOf(contract: unknown): Map<string, string> {
  const types = new Map<string, string>();
  if (contract === null || typeof contract !== 'object') return types;
  const record = contract as Record<string, unknown>;
  const add = (name: unknown, type: unknown) => {
    const known = typeof type === 'string' && CONTRACT_TYPES.has(type.toLowerCase());
    if (typeof name === 'string' && known) types.set(name, (type as string).toLowerCase());
  };
  const properties = record.properties;
  if (properties !== null && typeof properties === 'object' && !Array.isArray(properties)) {
    for (const [name, spec] of Object.entries(properties)) {
      add(
        name,
        spec !== null && typeof spec === 'object' ? (spec as Record<string, unknown>).type : undefined,
      );
    }
  }
  const list =
    [record.fields, record.columns, record.features].find(Array.isArray) ??
    (Array.isArray(contract) ? contract : []);
  for (const field of list as unknown[]) {
    if (field !== null && typeof field === 'object') {
      const { name, type } = field as Record<string, unknown>;
      add(name, type);
    }
  }
  return types;
}

function exampleRequestOf(directory: FormatDirectory): unknown {
  const example = directory.inputExample;
  if (!example) return undefined;
  if (example.kind === 'dataframe') {
    return { dataframe_split: { columns: [...example.columns], data: example.data.map((row) => [...row]) } };
  }
  return Array.isArray(example.value) ? { inputs: example.value } : undefined;
}

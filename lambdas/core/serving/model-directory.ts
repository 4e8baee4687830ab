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
import type { ModelFiles } from './registry';

/** MLflow column types serving can feed into a float tensor. */
export type ColumnType = 'boolean' | 'integer' | 'long' | 'float' | 'double';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
}

export interface ServableDirectory {
  /** model.onnx with any external tensor data inlined. */
  readonly onnx: Uint8Array;
  readonly onnxInfo: OnnxModelInfo;
  readonly runId?: string;
  /** Named input columns in the order the input tensor takes them; absent when the model names none. */
  readonly columns?: readonly ColumnSpec[];
  /** A request body in one of MLflow's scoring shapes, from the logged input example. */
  readonly exampleRequest?: unknown;
}

const SUPPORTED_TYPES: ReadonlySet<string> = new Set(['boolean', 'integer', 'long', 'float', 'double']);

/** Data contract type names, as JSON Schema and common contract formats spell them. */
const CONTRACT_TYPES: Readonly<Record<string, ColumnType>> = {
  number: 'double',
  float: 'float',
  double: 'double',
  integer: 'long',
  int: 'long',
  long: 'long',
  boolean: 'boolean',
  bool: 'boolean',
};

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
  const columns = inputColumns(directory);
  const exampleRequest = exampleRequestOf(directory);
  return {
    onnx: directory.onnxBytes,
    onnxInfo: directory.onnx,
    ...(directory.mlmodel.runId ? { runId: directory.mlmodel.runId } : {}),
    ...(columns ? { columns } : {}),
    ...(exampleRequest !== undefined ? { exampleRequest } : {}),
  };
}

/**
 * A column signature gives names and types. Otherwise (our models declare a tensor signature)
 * the reader's feature names are used, typed by the data contract where it names the feature.
 */
function inputColumns(directory: FormatDirectory): ColumnSpec[] | undefined {
  const inputs = directory.signature?.inputs ?? [];
  if (inputs.length > 0 && inputs.every((spec) => spec.kind === 'column' && spec.name !== null)) {
    return inputs.map((spec) => {
      const type = spec.kind === 'column' ? spec.type : 'tensor';
      const name = spec.name ?? '';
      if (!SUPPORTED_TYPES.has(type)) {
        throw new ModelProblem(
          'MODEL_UNSUPPORTED',
          `signature input '${name}' has type ${type}; only numeric and boolean inputs are served`,
          true,
        );
      }
      return { name, type: type as ColumnType };
    });
  }
  const names = directory.featureNames;
  if (!names) return undefined;
  const contractTypes = contractTypesOf(directory.dataContract);
  return names.map((name) => ({ name, type: contractTypes.get(name) ?? 'double' }));
}

/**
 * Feature types from `data_contract/input_schema.json` when it is in a shape we recognise: a
 * JSON Schema object (`properties`) or a list of `{name, type}` under fields/columns/features.
 * Anything else leaves every feature a double, which is what the model's tensor takes anyway.
 */
function contractTypesOf(contract: unknown): Map<string, ColumnType> {
  const types = new Map<string, ColumnType>();
  if (contract === null || typeof contract !== 'object') return types;
  const record = contract as Record<string, unknown>;
  const add = (name: unknown, type: unknown) => {
    const mapped = typeof type === 'string' ? CONTRACT_TYPES[type.toLowerCase()] : undefined;
    if (typeof name === 'string' && mapped) types.set(name, mapped);
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

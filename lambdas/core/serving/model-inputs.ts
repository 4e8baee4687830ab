/**
 * What a model takes, described once per model version: its graph inputs (one [N, F] tensor, or
 * one [N] / [N, 1] tensor per column, of float, double, int32, int64, bool or string) and the
 * named columns callers send, each with the kind of JSON value it takes, whether it may be
 * missing, and the categories it knows. Both the predict API (JSON bodies) and batch inference
 * (frames) fill the graph inputs from this one description.
 *
 * Where the names and types come from, first found wins:
 * - per-column graphs: the graph input names; the MLmodel column signature refines the value
 *   kind and says which columns are optional (`required: false`);
 * - a single [N, F] tensor: the column signature, else the feature names the directory has
 *   (MLmodel or ONNX metadata, input example), typed by the data contract; else positional
 *   names `<input>[i]`;
 * - categories: ONNX metadata `feature_categories` ({column: [levels]}), else the OneHotEncoder
 *   a per-column string input feeds.
 */
import { ModelProblem } from './errors';

/** The graph input element types served (onnxruntime-node's names). */
export type InputElementType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'string';

/** The JSON value a column takes. */
/** `datetime`: a number input fed epoch milliseconds, taken as a number or an ISO 8601 string. */
export type ValueKind = 'number' | 'integer' | 'boolean' | 'string' | 'datetime';

export interface ModelInput {
  readonly name: string;
  readonly elementType: InputElementType;
  /** `matrix`: [N, F]; `column`: [N, 1]; `vector`: [N]. */
  readonly layout: 'matrix' | 'column' | 'vector';
  /** Values per row. */
  readonly width: number;
}

export interface InputColumn {
  readonly name: string;
  readonly kind: ValueKind;
  /** False when a value may be null or absent (NaN / "" goes to the graph). */
  readonly required: boolean;
  /** The string values the model knows, when it says; others are refused. */
  readonly categories?: readonly string[];
  /** Index into `ModelInputs.inputs`. */
  readonly input: number;
  /** Position within that input's row. */
  readonly offset: number;
  /** A double input the graph narrows to float: values must fit a float32. */
  readonly float32Range?: boolean;
}

export interface ModelInputs {
  readonly inputs: readonly ModelInput[];
  /** In the model's order: graph input order, then position within the tensor. */
  readonly columns: readonly InputColumn[];
}

/** A graph input as the ONNX file declares it (`inspectOnnx`). */
export interface GraphInputInfo {
  readonly name: string;
  readonly elementType: string;
  readonly shape: readonly (number | string | null)[] | null;
}

/** A column of an MLflow column signature. */
export interface SignatureColumn {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
}

export interface InputHints {
  readonly signatureColumns?: readonly SignatureColumn[];
  /** Feature names in tensor order, for single-tensor models without a column signature. */
  readonly featureNames?: readonly string[];
  /** Column types from the data contract (`number`, `integer`, `boolean`, …). */
  readonly contractTypes?: ReadonlyMap<string, string>;
  /** ONNX metadata `feature_categories`. */
  readonly featureCategories?: Readonly<Record<string, readonly string[]>>;
  /** The categories of the OneHotEncoder each graph input feeds. */
  readonly encoderCategories?: ReadonlyMap<string, readonly string[]>;
  /** Double inputs the graph casts to float before using them. */
  readonly float32Inputs?: ReadonlySet<string>;
}

const ELEMENT_TYPES: Readonly<Record<string, InputElementType>> = {
  float: 'float32',
  float32: 'float32',
  double: 'float64',
  float64: 'float64',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  string: 'string',
};

/** MLflow column types and data contract types that make a float input take booleans or integers. */
const DECLARED_KINDS: Readonly<Record<string, ValueKind>> = {
  boolean: 'boolean',
  bool: 'boolean',
  integer: 'integer',
  int: 'integer',
  long: 'integer',
  datetime: 'datetime',
};

export function describeModelInputs(graphInputs: readonly GraphInputInfo[], hints: InputHints): ModelInputs {
  if (graphInputs.length === 0) {
    throw new ModelProblem('MODEL_UNSUPPORTED', 'the model has no inputs to feed', true);
  }
  const inputs = graphInputs.map(modelInput);
  const signature = new Map((hints.signatureColumns ?? []).map((column) => [column.name, column]));
  const only = inputs[0] as ModelInput;
  if (inputs.length === 1 && only.layout === 'matrix') {
    const width = matrixWidth(only, hints);
    const input = { ...only, width };
    return { inputs: [input], columns: matrixColumns(input, hints, signature) };
  }
  const wide = inputs.find((input) => input.width !== 1);
  if (wide) {
    throw new ModelProblem(
      'MODEL_UNSUPPORTED',
      `input '${wide.name}' takes ${wide.width} values per row; a model with several inputs is served when each takes one column ([N] or [N, 1])`,
      true,
    );
  }
  // One one-column input: named like a one-column matrix (our older regressors on one feature
  // take `input` [N, 1] and call the column by the feature's name).
  const single = inputs.length === 1 ? matrixNames(hints) : undefined;
  const columns = inputs.map((input, i): InputColumn => {
    const name = single?.length === 1 ? (single[0] as string) : input.name;
    const declared = signature.get(name);
    // The contract's datetime outranks the signature's double: our models take a date as epoch ms.
    const contractType = hints.contractTypes?.get(name);
    const type = contractType === 'datetime' ? contractType : (declared?.type ?? contractType);
    const categories = hints.featureCategories?.[name] ?? hints.encoderCategories?.get(input.name);
    const described = column(name, input, i, 0, type, declared?.required ?? true, categories);
    return hints.float32Inputs?.has(input.name) ? { ...described, float32Range: true } : described;
  });
  return { inputs, columns };
}

function modelInput(info: GraphInputInfo): ModelInput {
  const elementType = ELEMENT_TYPES[info.elementType];
  if (!elementType) {
    throw new ModelProblem(
      'MODEL_UNSUPPORTED',
      `input '${info.name}' is ${info.elementType === 'other' ? 'not a tensor of a served type' : `a ${info.elementType} tensor`}; float, double, int32, int64, bool and string inputs are served`,
      true,
    );
  }
  const shape = info.shape;
  if (shape?.length === 1) return { name: info.name, elementType, layout: 'vector', width: 1 };
  if (shape?.length === 2) {
    const width = shape[1];
    if (width === 1) return { name: info.name, elementType, layout: 'column', width: 1 };
    // A symbolic second dimension (-1 here) takes its width from the column names (matrixWidth).
    return { name: info.name, elementType, layout: 'matrix', width: typeof width === 'number' ? width : -1 };
  }
  throw new ModelProblem(
    'MODEL_UNSUPPORTED',
    `input '${info.name}' has shape [${(shape ?? []).map((d) => d ?? '?').join(', ')}]; [N], [N, 1] and [N, F] inputs are served`,
    true,
  );
}

function matrixNames(hints: InputHints): readonly string[] | undefined {
  const signatureNames = hints.signatureColumns?.map((c) => c.name);
  const names = signatureNames?.length ? signatureNames : hints.featureNames;
  return names?.length ? names : undefined;
}

/** The declared width, else (a symbolic second dimension) the number of named columns. */
function matrixWidth(input: ModelInput, hints: InputHints): number {
  const names = matrixNames(hints);
  if (input.width === -1 && !names) {
    throw new ModelProblem(
      'MODEL_UNSUPPORTED',
      `input '${input.name}' has shape [N, ?] and the model names no columns; expected [N, F]`,
      true,
    );
  }
  const width = input.width === -1 ? (names?.length ?? 0) : input.width;
  if (names && names.length !== width) {
    throw new ModelProblem(
      'MODEL_CORRUPT',
      `the model names ${names.length} columns but input '${input.name}' takes ${width}`,
      true,
    );
  }
  return width;
}

function matrixColumns(
  input: ModelInput,
  hints: InputHints,
  signature: ReadonlyMap<string, SignatureColumn>,
): InputColumn[] {
  const columnNames =
    matrixNames(hints) ?? Array.from({ length: input.width }, (_, i) => `${input.name}[${i}]`);
  return columnNames.map((name, offset) => {
    const declared = signature.get(name);
    // The contract's datetime outranks the signature's double: our models take a date as epoch ms.
    const contractType = hints.contractTypes?.get(name);
    const type = contractType === 'datetime' ? contractType : (declared?.type ?? contractType);
    const categories = hints.featureCategories?.[name];
    return column(name, input, 0, offset, type, declared?.required ?? true, categories);
  });
}

function column(
  name: string,
  input: ModelInput,
  index: number,
  offset: number,
  declaredType: string | undefined,
  required: boolean,
  categories: readonly string[] | undefined,
): InputColumn {
  const kind = valueKind(input.elementType, declaredType);
  // A missing value is NaN in a float tensor and "" in a string one; int and bool tensors have none.
  const canBeMissing =
    kind === 'string' || input.elementType === 'float32' || input.elementType === 'float64';
  return {
    name,
    kind,
    required: required || !canBeMissing,
    ...(kind === 'string' && categories?.length ? { categories } : {}),
    input: index,
    offset,
  };
}

function valueKind(elementType: InputElementType, declaredType: string | undefined): ValueKind {
  switch (elementType) {
    case 'string':
      return 'string';
    case 'bool':
      return 'boolean';
    case 'int32':
    case 'int64':
      return 'integer';
    default:
      return (declaredType && DECLARED_KINDS[declaredType.toLowerCase()]) || 'number';
  }
}

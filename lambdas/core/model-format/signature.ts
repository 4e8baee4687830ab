/**
 * MLflow model signatures: the one our models are written with, and parsing of any MLmodel's
 * (models registered by earlier versions declare a tensor input, float64 [-1, F]; they are read
 * as they are).
 *
 * Our models declare column-based inputs, one per raw input column (`double`, `long`, `boolean`,
 * `string`; required unless the column is nullable), and column-based outputs (`label`: string
 * and one `probability_<class>`: float per class, or `prediction`: float). The graph's inputs
 * are those columns and its outputs are rank 1 (graph-contract.ts), so `pyfunc.predict(DataFrame)`
 * feeds each column by name (any order) and answers a DataFrame of the outputs.
 */
import { z } from 'zod';
import { type GraphElementType, graphContractOf } from '../onnx/graph-contract';
import type { FittedModel } from '../training/model-types';
import { modelInputs } from '../training/preprocessing';
import { ModelFormatError } from './errors';

/** A named (or unnamed) DataFrame column of an MLflow DataType (`double`, `long`, `string`, …). */
export interface ColumnSpec {
  readonly kind: 'column';
  readonly name: string | null;
  readonly type: string;
  readonly required: boolean;
}

/** A tensor of a numpy dtype (`float64`, `float32`, `object`, …); -1 marks a variable dimension. */
export interface TensorSpec {
  readonly kind: 'tensor';
  readonly name: string | null;
  readonly dtype: string;
  readonly shape: readonly number[];
}

export type SignatureSpec = ColumnSpec | TensorSpec;

export interface ModelSignature {
  readonly inputs: readonly SignatureSpec[];
  readonly outputs: readonly SignatureSpec[] | null;
  /** Inference parameters (MLflow's ParamSchema), kept as parsed JSON. */
  readonly params: readonly unknown[] | null;
}

/** The MLmodel `signature` mapping: each part a JSON string, as MLflow writes it. */
export interface MlflowSignatureFields {
  readonly inputs: string;
  readonly outputs: string | null;
  readonly params: string | null;
}

/** MLflow's column DataType for each graph element type. */
const MLFLOW_COLUMN_TYPES: Readonly<Record<GraphElementType, string>> = {
  double: 'double',
  float: 'float',
  int64: 'long',
  bool: 'boolean',
  string: 'string',
};

export function signatureOf(model: FittedModel): ModelSignature {
  const contract = graphContractOf(model);
  const inputs = modelInputs(model);
  return {
    inputs: contract.inputs.map((input, j) => ({
      kind: 'column',
      name: input.name,
      type: MLFLOW_COLUMN_TYPES[input.elementType],
      required: !(inputs[j]?.nullable ?? false),
    })),
    outputs: contract.outputs.map((output) => ({
      kind: 'column',
      name: output.name,
      type: MLFLOW_COLUMN_TYPES[output.elementType],
      required: true,
    })),
    params: null,
  };
}

export function signatureToMlflow(signature: ModelSignature): MlflowSignatureFields {
  return {
    inputs: JSON.stringify(signature.inputs.map(specToMlflow)),
    outputs: signature.outputs ? JSON.stringify(signature.outputs.map(specToMlflow)) : null,
    params: signature.params ? JSON.stringify(signature.params) : null,
  };
}

function specToMlflow(spec: SignatureSpec): Record<string, unknown> {
  const name = spec.name === null ? {} : { name: spec.name };
  if (spec.kind === 'tensor') {
    return { ...name, type: 'tensor', 'tensor-spec': { dtype: spec.dtype, shape: [...spec.shape] } };
  }
  return { type: spec.type, ...name, required: spec.required };
}

const MLFLOW_TENSOR_SPEC = z.looseObject({
  type: z.literal('tensor'),
  name: z.string().nullish(),
  'tensor-spec': z.object({ dtype: z.string(), shape: z.array(z.number().int()) }),
});

const MLFLOW_COLUMN_SPEC = z.looseObject({
  type: z.string(),
  name: z.string().nullish(),
  required: z.boolean().optional(),
});

const MLFLOW_SIGNATURE = z.object({
  inputs: z.string().nullish(),
  outputs: z.string().nullish(),
  params: z.string().nullish(),
});

/** Parses an MLmodel's `signature` mapping; null when the model has none. */
export function parseSignature(raw: unknown): ModelSignature | null {
  if (raw === null || raw === undefined) return null;
  const fields = MLFLOW_SIGNATURE.safeParse(raw);
  if (!fields.success) throw invalid('the signature is not a mapping of JSON strings');
  const inputs = fields.data.inputs ? parseSpecs(fields.data.inputs, 'inputs') : [];
  const outputs = fields.data.outputs ? parseSpecs(fields.data.outputs, 'outputs') : null;
  const params = fields.data.params ? parseJsonArray(fields.data.params, 'params') : null;
  return { inputs, outputs, params };
}

function parseSpecs(source: string, part: string): SignatureSpec[] {
  return parseJsonArray(source, part).map((entry, index) => {
    const tensor = MLFLOW_TENSOR_SPEC.safeParse(entry);
    if (tensor.success) {
      const { dtype, shape } = tensor.data['tensor-spec'];
      return { kind: 'tensor', name: tensor.data.name ?? null, dtype, shape };
    }
    const column = MLFLOW_COLUMN_SPEC.safeParse(entry);
    if (!column.success || column.data.type === 'tensor') {
      throw invalid(`signature ${part}[${index}] is neither a column nor a tensor spec`);
    }
    return {
      kind: 'column',
      name: column.data.name ?? null,
      type: column.data.type,
      required: column.data.required ?? true,
    };
  });
}

function parseJsonArray(source: string, part: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw invalid(`signature ${part} is not JSON`, error);
  }
  if (!Array.isArray(parsed)) throw invalid(`signature ${part} is not a JSON array`);
  return parsed;
}

function invalid(message: string, cause?: unknown): ModelFormatError {
  return new ModelFormatError(
    'INVALID_SIGNATURE',
    message,
    'MLmodel',
    cause === undefined ? undefined : { cause },
  );
}

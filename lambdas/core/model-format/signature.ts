/**
 * MLflow model signatures: the one our models are written with, and parsing of any MLmodel's.
 *
 * Our models declare a tensor input, float64 [-1, F], rather than one double column per feature.
 * With a column signature, `pyfunc.predict(DataFrame)` hands the DataFrame to mlflow.onnx's
 * wrapper, which builds its answer with `pd.DataFrame.from_dict` over the flattened outputs and
 * fails for a classifier ("All arrays must be of the same length": `label` has N values,
 * `probabilities` N·K). With a tensor signature, pyfunc turns the DataFrame into an array first
 * and the wrapper answers a dict of arrays {label, probabilities}. Feature names are kept in the
 * MLmodel metadata, the input example's columns and the ONNX metadata instead.
 */
import { z } from 'zod';
import { graphContractOf } from '../onnx/graph-contract';
import type { FittedModel } from '../training/model-types';
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

export function signatureOf(model: FittedModel): ModelSignature {
  const contract = graphContractOf(model);
  return {
    inputs: [{ kind: 'tensor', name: null, dtype: 'float64', shape: [-1, model.features.length] }],
    outputs: contract.outputs.map((output) => ({
      kind: 'tensor',
      name: output.name,
      // numpy's dtypes for what onnxruntime returns: strings come back as an object array.
      dtype: output.elementType === 'string' ? 'object' : 'float32',
      shape: output.shape.map((size) => size ?? -1),
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

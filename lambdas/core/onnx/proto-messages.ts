/**
 * The ONNX messages this project builds and reads, typed, plus their protobuf encoding.
 *
 * Field names are the schema's own (snake_case): protobufjs is asked to keep them, so an object
 * here is exactly what `fromObject` / `decode` deal in. Only the fields this code touches are
 * typed; the rest still travel through a decode → encode round trip because the schema is whole.
 */
import type { Long, Message } from 'protobufjs';
import protobuf from 'protobufjs';
import { OnnxFormatError } from './errors';
import { ONNX_PROTO_SOURCE } from './proto-schema';

/** protobufjs decodes int64 as a `Long` (its `long` dependency is installed), encodes either form. */
export type Int64 = number | Long;

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

/** TensorProto.DataType values used here (the schema has the full list). */
export const TensorDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

export const TensorDataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

export interface TensorProto {
  dims?: Int64[];
  data_type?: number;
  name?: string;
  raw_data?: Uint8Array;
  float_data?: number[];
  int64_data?: Int64[];
  external_data?: StringStringEntryProto[];
  data_location?: number;
}

export interface SparseTensorProto {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: Int64[];
}

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
} as const;

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparse_tensor?: SparseTensorProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparse_tensors?: SparseTensorProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
}

export interface TensorShapeDimension {
  dim_value?: Int64;
  dim_param?: string;
  /** protobufjs's virtual oneof field on decoded messages: which of the two is set, if any. */
  readonly value?: 'dim_value' | 'dim_param';
}

export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: TensorShapeDimension[] } };
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
  sparse_tensor_type?: { elem_type?: number; shape?: { dim?: TensorShapeDimension[] } };
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  doc_string?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparse_initializer?: SparseTensorProto[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

export interface FunctionProto {
  name?: string;
  node?: NodeProto[];
}

export interface TrainingInfoProto {
  initialization?: GraphProto;
  algorithm?: GraphProto;
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props?: StringStringEntryProto[];
  training_info?: TrainingInfoProto[];
  functions?: FunctionProto[];
}

// Parsed once per process (a few milliseconds at cold start); keepCase keeps the schema's names.
const modelProtoType = protobuf
  .parse(ONNX_PROTO_SOURCE, { keepCase: true })
  .root.lookupType('onnx.ModelProto');

export function encodeModelProto(model: ModelProto): Uint8Array {
  const problem = modelProtoType.verify(model);
  if (problem) throw new OnnxFormatError(`the ONNX model does not fit the schema: ${problem}`);
  const bytes = modelProtoType.encode(modelProtoType.fromObject(model)).finish();
  // Under Node the writer hands back a Buffer; callers compare and store plain Uint8Arrays.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes a serialized ModelProto. The result keeps protobufjs's `Long`s (see `Int64`) so it can be
 * re-encoded without losing int64 precision; read numbers through `int64ToNumber`.
 */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  let decoded: Message;
  try {
    decoded = modelProtoType.decode(bytes);
  } catch (error) {
    throw new OnnxFormatError(
      `the bytes are not a serialized ONNX ModelProto: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // The decoder built the object from the same schema the interfaces above describe.
  return decoded as unknown as ModelProto;
}

export function int64ToNumber(value: Int64 | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  // Long's two 32-bit halves; exact up to 2^53, which covers every size and id in a model.
  const high = value.unsigned ? value.high >>> 0 : value.high;
  return high * 2 ** 32 + (value.low >>> 0);
}

/**
 * Reads what a server needs to know about any ONNX model, ours or one a Python user exported
 * (skl2onnx names its input `float_input` or `X`, other tools use several inputs): the graph's
 * real inputs and outputs with their element types and shapes, the opsets and the metadata.
 */
import { OnnxFormatError } from './errors';
import {
  decodeModelProto,
  int64ToNumber,
  type ModelProto,
  TensorDataLocation,
  TensorDataType,
  type TypeProto,
  type ValueInfoProto,
} from './proto-messages';
import { forEachTensor } from './tensor-walk';

export type OnnxElementType =
  | 'float'
  | 'double'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'string'
  | 'bool'
  | 'other';

export interface OnnxValueInfo {
  readonly name: string;
  /** `tensor` for tensors; sequences and maps (skl2onnx's ZipMap output) are told apart here. */
  readonly kind: 'tensor' | 'sequence' | 'map' | 'other';
  /** The tensor's element type; `other` for non-tensors and exotic types. */
  readonly elementType: OnnxElementType;
  /** Dimensions: a number when fixed, the symbol's name when symbolic, null when unknown; null when unranked. */
  readonly shape: readonly (number | string | null)[] | null;
}

export interface OnnxModelInfo {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  /** Graph inputs a caller must feed (initializers listed as inputs by old exporters are left out). */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Files named by tensors stored outside the model (onnx.save_model's `save_as_external_data`). */
  readonly externalDataFiles: readonly string[];
}

const ELEMENT_TYPES: Readonly<Record<number, OnnxElementType>> = {
  [TensorDataType.FLOAT]: 'float',
  [TensorDataType.DOUBLE]: 'double',
  [TensorDataType.FLOAT16]: 'float16',
  [TensorDataType.INT8]: 'int8',
  [TensorDataType.INT16]: 'int16',
  [TensorDataType.INT32]: 'int32',
  [TensorDataType.INT64]: 'int64',
  [TensorDataType.UINT8]: 'uint8',
  [TensorDataType.UINT16]: 'uint16',
  [TensorDataType.UINT32]: 'uint32',
  [TensorDataType.UINT64]: 'uint64',
  [TensorDataType.STRING]: 'string',
  [TensorDataType.BOOL]: 'bool',
};

export function inspectOnnx(bytes: Uint8Array): OnnxModelInfo {
  return describeModel(decodeOnnxModel(bytes));
}

/** Decodes and checks that the bytes hold a model with a graph that has inputs and outputs. */
export function decodeOnnxModel(bytes: Uint8Array): ModelProto {
  if (bytes.byteLength === 0) throw new OnnxFormatError('the ONNX model file is empty');
  const model = decodeModelProto(bytes);
  const graph = model.graph;
  if (int64ToNumber(model.ir_version) <= 0 || !graph || !graph.output?.length) {
    throw new OnnxFormatError(
      'the bytes decode as protobuf but not as an ONNX model (no IR version or graph)',
    );
  }
  return model;
}

export function describeModel(model: ModelProto): OnnxModelInfo {
  const graph = model.graph ?? {};
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const externalDataFiles = new Set<string>();
  forEachTensor(model, (tensor) => {
    if (tensor.data_location !== TensorDataLocation.EXTERNAL) return;
    const location = tensor.external_data?.find((entry) => entry.key === 'location')?.value;
    if (location) externalDataFiles.add(location);
  });
  return {
    irVersion: int64ToNumber(model.ir_version),
    producerName: model.producer_name ?? '',
    producerVersion: model.producer_version ?? '',
    opsets: (model.opset_import ?? []).map((opset) => ({
      domain: opset.domain ?? '',
      version: int64ToNumber(opset.version),
    })),
    inputs: (graph.input ?? []).filter((input) => !initializers.has(input.name)).map(describeValue),
    outputs: (graph.output ?? []).map(describeValue),
    metadata: Object.fromEntries(
      (model.metadata_props ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']),
    ),
    externalDataFiles: [...externalDataFiles],
  };
}

function describeValue(value: ValueInfoProto): OnnxValueInfo {
  const type: TypeProto = value.type ?? {};
  const tensor = type.tensor_type;
  if (tensor) {
    return {
      name: value.name,
      kind: 'tensor',
      elementType: ELEMENT_TYPES[tensor.elem_type ?? 0] ?? 'other',
      shape: tensor.shape
        ? (tensor.shape.dim ?? []).map((dim) => {
            if (dim.value === 'dim_param') return dim.dim_param ?? null;
            return dim.value === 'dim_value' ? int64ToNumber(dim.dim_value) : null;
          })
        : null,
    };
  }
  const kind = type.sequence_type ? 'sequence' : type.map_type ? 'map' : 'other';
  return { name: value.name, kind, elementType: 'other', shape: null };
}

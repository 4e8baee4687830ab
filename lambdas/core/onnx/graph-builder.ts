/**
 * Small constructors for the ONNX messages a graph is made of, so exporters read as the graph
 * they build rather than as protobuf field plumbing.
 */

import type { FittedModel } from '../training/model-types';
import { BATCH_DIMENSION, type GraphElementType, type GraphTensor, graphContractOf } from './graph-contract';
import {
  type AttributeProto,
  AttributeType,
  type NodeProto,
  TensorDataType,
  type TensorProto,
  type ValueInfoProto,
} from './proto-messages';

export const ONNX_ML_DOMAIN = 'ai.onnx.ml';

const utf8 = new TextEncoder();

export const attribute = {
  float: (name: string, value: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f: value }),
  int: (name: string, value: number): AttributeProto => ({ name, type: AttributeType.INT, i: value }),
  string: (name: string, value: string): AttributeProto => ({
    name,
    type: AttributeType.STRING,
    s: utf8.encode(value),
  }),
  floats: (name: string, values: readonly number[]): AttributeProto => ({
    name,
    type: AttributeType.FLOATS,
    floats: [...values],
  }),
  ints: (name: string, values: readonly number[]): AttributeProto => ({
    name,
    type: AttributeType.INTS,
    ints: [...values],
  }),
  strings: (name: string, values: readonly string[]): AttributeProto => ({
    name,
    type: AttributeType.STRINGS,
    strings: values.map((value) => utf8.encode(value)),
  }),
};

/** An `ai.onnx.ml` operator node. */
export function mlNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: readonly AttributeProto[],
): NodeProto {
  return { ...node(opType, inputs, outputs, attributes), domain: ONNX_ML_DOMAIN };
}

/** A default-domain (`ai.onnx`) operator node, named after its first output (names stay unique). */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: readonly AttributeProto[] = [],
): NodeProto {
  return {
    op_type: opType,
    domain: '',
    name: `${opType}:${outputs[0] ?? ''}`,
    input: [...inputs],
    output: [...outputs],
    attribute: [...attributes],
  };
}

/** A constant int64 tensor (an initializer: Unsqueeze's and Squeeze's `axes`). */
export function int64Initializer(name: string, values: readonly number[]): TensorProto {
  return { name, data_type: TensorDataType.INT64, dims: [values.length], int64_data: [...values] };
}

export const ELEMENT_TYPES: Readonly<Record<GraphElementType, number>> = {
  float: TensorDataType.FLOAT,
  double: TensorDataType.DOUBLE,
  int64: TensorDataType.INT64,
  bool: TensorDataType.BOOL,
  string: TensorDataType.STRING,
};

export function tensorValueInfo(tensor: GraphTensor): ValueInfoProto {
  return {
    name: tensor.name,
    type: {
      tensor_type: {
        elem_type: ELEMENT_TYPES[tensor.elementType],
        shape: {
          dim: tensor.shape.map((size) =>
            size === null ? { dim_param: BATCH_DIMENSION } : { dim_value: size },
          ),
        },
      },
    },
  };
}

export function contractValueInfos(model: FittedModel): {
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
} {
  const contract = graphContractOf(model);
  return { inputs: contract.inputs.map(tensorValueInfo), outputs: contract.outputs.map(tensorValueInfo) };
}

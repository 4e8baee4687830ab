/**
 * What serving reads from, and changes in, an ONNX graph before a session is made from it:
 *
 * - ZipMap: skl2onnx ends a classifier with ai.onnx.ml ZipMap (a sequence of {class: probability}
 *   maps), which onnxruntime-node cannot return (it hands back tensors only). The node is dropped
 *   and its input, the float [N, C] probabilities, becomes the graph output instead; the class
 *   labels come from the ZipMap's own attributes. Nothing else in the graph changes.
 * - Float32 inputs: a double input whose every use is a Cast to float (ours: the ai.onnx.ml
 *   operators compute in float) cannot take a value beyond float32's range; the API says so
 *   instead of answering from an infinity.
 * - Categories: the string values an input's OneHotEncoder knows (`cats_strings`), when the
 *   encoder is fed by that input through shape-only ops (skl2onnx puts a Gather or Reshape in
 *   between), so the API can refuse a value the model was never trained on.
 */
import { decodeOnnxModel } from '../onnx/inspect-model';
import {
  encodeModelProto,
  int64ToNumber,
  type ModelProto,
  type NodeProto,
  TensorDataType,
  type ValueInfoProto,
} from '../onnx/proto-messages';

export interface PreparedGraph {
  /** The bytes to create the session from: the original ones when nothing was rewritten. */
  readonly bytes: Uint8Array;
  /** Per probabilities output exposed in place of a ZipMap: the class labels in column order. */
  readonly zipMapClasses: ReadonlyMap<string, readonly string[]>;
  /** Per graph input: the categories of the OneHotEncoder it feeds. */
  readonly encoderCategories: ReadonlyMap<string, readonly string[]>;
  /** The class labels of the classifier node producing each output, where a node carries them. */
  readonly classLabels: ReadonlyMap<string, readonly string[]>;
  /** Double inputs the graph casts to float before using: their values must fit a float32. */
  readonly float32Inputs: ReadonlySet<string>;
}

/** Ops that move or reshape values without changing them: an encoder behind them still sees the input's strings. */
const PASS_THROUGH_OPS: ReadonlySet<string> = new Set([
  'Identity',
  'Gather',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
]);

const utf8 = new TextDecoder();

export function prepareGraph(bytes: Uint8Array): PreparedGraph {
  const model = decodeOnnxModel(bytes);
  const nodes = model.graph?.node ?? [];
  const encoderCategories = categoriesByInput(model);
  const classLabels = new Map<string, readonly string[]>();
  for (const node of nodes) {
    const labels = classLabelsOf(node);
    if (labels) for (const output of node.output) classLabels.set(output, labels);
  }
  const float32Inputs = inputsCastToFloat(model);
  const zipMapClasses = exposeZipMapInputs(model);
  return {
    float32Inputs,
    bytes: zipMapClasses.size > 0 ? encodeModelProto(model) : bytes,
    zipMapClasses,
    encoderCategories,
    classLabels,
  };
}

/** Drops every ZipMap that produces a graph output, in place; answers the exposed outputs' classes. */
function exposeZipMapInputs(model: ModelProto): Map<string, readonly string[]> {
  const graph = model.graph;
  const exposed = new Map<string, readonly string[]>();
  if (!graph?.node || !graph.output) return exposed;
  const consumed = new Set(graph.node.flatMap((node) => node.input));
  const outputs: ValueInfoProto[] = [];
  const dropped = new Set<NodeProto>();
  for (const output of graph.output) {
    const producer = graph.node.find((node) => node.output.includes(output.name));
    const source = producer?.input[0];
    const classes = producer ? classLabelsOf(producer) : undefined;
    if (producer?.op_type !== 'ZipMap' || !source || !classes || consumed.has(output.name)) {
      outputs.push(output);
      continue;
    }
    dropped.add(producer);
    exposed.set(source, classes);
    if (graph.output.some((other) => other.name === source)) continue;
    outputs.push({
      name: source,
      type: {
        tensor_type: {
          elem_type: TensorDataType.FLOAT,
          shape: { dim: [{ dim_param: 'N' }, { dim_value: classes.length }] },
        },
      },
    });
  }
  if (dropped.size > 0) {
    graph.node = graph.node.filter((node) => !dropped.has(node));
    graph.output = outputs;
  }
  return exposed;
}

const CAST_TO_FLOAT = TensorDataType.FLOAT;

function inputsCastToFloat(model: ModelProto): Set<string> {
  const graph = model.graph;
  const narrowed = new Set<string>();
  for (const input of graph?.input ?? []) {
    if (input.type?.tensor_type?.elem_type !== TensorDataType.DOUBLE) continue;
    const uses = (graph?.node ?? []).filter((node) => node.input.includes(input.name));
    const allCasts =
      uses.length > 0 &&
      uses.every(
        (node) =>
          node.op_type === 'Cast' &&
          int64ToNumber(node.attribute?.find((a) => a.name === 'to')?.i ?? 0) === CAST_TO_FLOAT,
      );
    if (allCasts) narrowed.add(input.name);
  }
  return narrowed;
}

function categoriesByInput(model: ModelProto): Map<string, readonly string[]> {
  const graph = model.graph;
  const categories = new Map<string, readonly string[]>();
  if (!graph?.node) return categories;
  const inputs = new Set((graph.input ?? []).map((input) => input.name));
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producers.set(output, node);
  for (const node of graph.node) {
    if (node.op_type !== 'OneHotEncoder') continue;
    const cats = node.attribute?.find((a) => a.name === 'cats_strings')?.strings;
    if (!cats || cats.length === 0) continue;
    let tensor = node.input[0];
    // Follow the data input back through shape-only ops, a few steps at most.
    for (let step = 0; step < 8 && tensor !== undefined && !inputs.has(tensor); step++) {
      const producer = producers.get(tensor);
      tensor = producer && PASS_THROUGH_OPS.has(producer.op_type) ? producer.input[0] : undefined;
    }
    if (tensor !== undefined && inputs.has(tensor) && !categories.has(tensor)) {
      categories.set(
        tensor,
        cats.map((bytes) => utf8.decode(bytes)),
      );
    }
  }
  return categories;
}

function classLabelsOf(node: NodeProto): string[] | undefined {
  for (const attribute of node.attribute ?? []) {
    if (attribute.name === 'classlabels_strings' && attribute.strings?.length)
      return attribute.strings.map((s) => utf8.decode(s));
    if (attribute.name === 'classlabels_int64s' && attribute.ints?.length)
      return attribute.ints.map((i) => String(int64ToNumber(i)));
  }
  return undefined;
}

/**
 * Visits every TensorProto a model holds, wherever ONNX allows one: initializers (dense and
 * sparse), tensor-valued node attributes (e.g. Constant), and the subgraphs of control-flow
 * nodes, local functions and training info. External data can sit on any of them.
 */
import type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  SparseTensorProto,
  TensorProto,
} from './proto-messages';

export function forEachTensor(model: ModelProto, visit: (tensor: TensorProto) => void): void {
  if (model.graph) walkGraph(model.graph, visit);
  for (const fn of model.functions ?? []) walkNodes(fn.node ?? [], visit);
  for (const info of model.training_info ?? []) {
    if (info.initialization) walkGraph(info.initialization, visit);
    if (info.algorithm) walkGraph(info.algorithm, visit);
  }
}

function walkGraph(graph: GraphProto, visit: (tensor: TensorProto) => void): void {
  for (const tensor of graph.initializer ?? []) visit(tensor);
  for (const sparse of graph.sparse_initializer ?? []) walkSparse(sparse, visit);
  walkNodes(graph.node ?? [], visit);
}

function walkNodes(nodes: readonly NodeProto[], visit: (tensor: TensorProto) => void): void {
  for (const node of nodes) {
    for (const attr of node.attribute ?? []) walkAttribute(attr, visit);
  }
}

function walkAttribute(attr: AttributeProto, visit: (tensor: TensorProto) => void): void {
  if (attr.t) visit(attr.t);
  for (const tensor of attr.tensors ?? []) visit(tensor);
  if (attr.sparse_tensor) walkSparse(attr.sparse_tensor, visit);
  for (const sparse of attr.sparse_tensors ?? []) walkSparse(sparse, visit);
  if (attr.g) walkGraph(attr.g, visit);
  for (const graph of attr.graphs ?? []) walkGraph(graph, visit);
}

function walkSparse(sparse: SparseTensorProto, visit: (tensor: TensorProto) => void): void {
  if (sparse.values) visit(sparse.values);
  if (sparse.indices) visit(sparse.indices);
}

/**
 * Finds a classifier's class labels in an ONNX graph: onnxruntime tells us the `probabilities`
 * output is float[N,K], but not which class each column is. Our exporter writes them to the
 * model's metadata; the ai.onnx.ml classifier operators of any exporter (skl2onnx, a model
 * built by hand with onnx.helper) carry them in `classlabels_strings` or `classlabels_int64s`.
 */
import { decodeOnnxModel } from '../onnx/inspect-model';
import { int64ToNumber, type NodeProto } from '../onnx/proto-messages';

/**
 * The class labels of the classifier node that produces `labelOutput` (or of the first node
 * with class labels), in the order of the probability columns; undefined when none is found.
 */
export function onnxClassLabels(model: Uint8Array, labelOutput: string): string[] | undefined {
  const nodes = decodeOnnxModel(model).graph?.node ?? [];
  const labelled = nodes
    .map((node) => ({ node, labels: classLabelsOf(node) }))
    .filter((entry): entry is { node: NodeProto; labels: string[] } => entry.labels !== undefined);
  return (labelled.find((entry) => entry.node.output.includes(labelOutput)) ?? labelled[0])?.labels;
}

function classLabelsOf(node: NodeProto): string[] | undefined {
  const decoder = new TextDecoder();
  for (const attribute of node.attribute ?? []) {
    if (attribute.name === 'classlabels_strings')
      return (attribute.strings ?? []).map((s) => decoder.decode(s));
    if (attribute.name === 'classlabels_int64s')
      return (attribute.ints ?? []).map((i) => String(int64ToNumber(i)));
  }
  return undefined;
}

/**
 * Scores a frame with a model directory's graph in one onnxruntime run, through the same input
 * description, graph preparation (ZipMap) and output reading as the predict API, so a batch and
 * a request get the same answer from the same model. Batch inference calls it per input object,
 * holdout scoring (lambdas/core/lifecycle/onnx-holdout.ts) per evaluation.
 */
import * as ort from 'onnxruntime-node';
import type { Frame } from '../data';
import type { OnnxPrediction } from '../lifecycle/onnx-holdout';
import type { ModelDirectory } from '../model-format';
import { inspectOnnx } from '../onnx/inspect-model';
import { type FrameInputOptions, type FrameInputs, FrameMismatchError, frameInputs } from './frame-inputs';
import { prepareGraph } from './graph-preparation';
import { inputHintsOf } from './model-directory';
import { describeModelInputs, type ModelInputs } from './model-inputs';
import { type ClassPrediction, outputsOf } from './model-outputs';
import type { TensorData } from './predict-request';

export interface FrameScores extends Omit<FrameInputs, 'tensors'> {
  /** One prediction per scored row (`rows`). */
  readonly prediction: OnnxPrediction;
}

export async function scoreFrame(
  directory: ModelDirectory,
  frame: Frame,
  options: FrameInputOptions = {},
): Promise<FrameScores> {
  const graph = prepareGraph(directory.onnxBytes);
  const inputs = describeModelInputs(directory.onnx.inputs, {
    ...inputHintsOf(directory),
    encoderCategories: graph.encoderCategories,
  });
  const { rows, tensors, problems } = frameInputs(frame, inputs, options);
  const session = await ort.InferenceSession.create(graph.bytes, { intraOpNumThreads: 1 });
  try {
    const outputs = outputsOf(session.outputMetadata, graph, directory.onnx);
    if (outputs.task === 'other') {
      throw new Error(
        `outputs ${session.outputNames.join(', ')} are neither a classifier's nor a regressor's`,
      );
    }
    if (rows.length === 0) {
      const prediction: OnnxPrediction =
        outputs.task === 'classification'
          ? { task: 'classification', labels: [], probabilities: null, classes: outputs.classes ?? null }
          : { task: 'regression', values: new Float64Array() };
      return { rows, problems, prediction };
    }
    const predictions = outputs.decode(
      await session.run(ortFeeds(inputs, tensors, rows.length)),
      rows.length,
    );
    if (outputs.task === 'regression') {
      return {
        rows,
        problems,
        prediction: { task: 'regression', values: Float64Array.from(predictions as number[]) },
      };
    }
    const classes = outputs.classes ?? null;
    const labels = (predictions as ClassPrediction[]).map((p) => String(p.label));
    let probabilities: Float64Array | null = null;
    if (classes) {
      probabilities = new Float64Array(rows.length * classes.length);
      (predictions as ClassPrediction[]).forEach((p, i) => {
        classes.forEach((name, j) => {
          (probabilities as Float64Array)[i * classes.length + j] = p.probabilities[name] ?? Number.NaN;
        });
      });
    }
    return { rows, problems, prediction: { task: 'classification', labels, probabilities, classes } };
  } finally {
    await session.release().catch(() => {});
  }
}

function ortFeeds(
  inputs: ModelInputs,
  tensors: readonly TensorData[],
  rows: number,
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  inputs.inputs.forEach((input, i) => {
    const dims = input.layout === 'vector' ? [rows] : [rows, input.width];
    feeds[input.name] = new ort.Tensor(input.elementType, tensors[i] as ort.Tensor.DataType, dims);
  });
  return feeds;
}

/**
 * The frame's columns as feeds for a bare graph (no MLmodel beside it): inputs named as its
 * columns, unknown categories left to the graph. For callers that run a session themselves.
 */
export function graphFeeds(onnx: Uint8Array, frame: Frame): Record<string, ort.Tensor> {
  const inputs = describeModelInputs(inspectOnnx(onnx).inputs, {});
  const { rows, tensors, problems } = frameInputs(frame, inputs, { encodeUnknownCategories: true });
  const [problem] = problems;
  if (problem) throw new FrameMismatchError(`row ${problem.row + 1}: ${problem.message}`, problem.column);
  return ortFeeds(inputs, tensors, rows.length);
}

/**
 * One registered model version made servable: an onnxruntime session created from the
 * artifact's `model.onnx`, its input schema, and how to turn its outputs into predictions.
 *
 * A model is only handed out after it has answered its own input example (the warm-up), so a
 * version that cannot predict never replaces one that can.
 */
import * as ort from 'onnxruntime-node';
import { describeError, ModelProblem } from './errors';
import { type PreparedGraph, prepareGraph } from './graph-preparation';
import { readServableDirectory, type SignatureKind } from './model-directory';
import { describeModelInputs, type ModelInputs } from './model-inputs';
import { type ModelOutputs, outputsOf } from './model-outputs';
import {
  allocateTensor,
  type CompiledInputs,
  compileInputs,
  type ParsedInput,
  parsePredictRequest,
  type TensorData,
} from './predict-request';
import type { ModelFiles, ModelVersionRef } from './registry';

export type { Prediction } from './model-outputs';

import type { Prediction } from './model-outputs';

interface PendingRun {
  readonly input: ParsedInput;
  readonly resolve: (predictions: Prediction[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Requests that arrive together are run as one batch: one onnxruntime call for all their rows
 * costs about what one call for a single row does, so under concurrency (the local server, a
 * container) throughput scales with the batch. A Lambda serves one request at a time and gets
 * batches of one. Batches are capped so one run stays short.
 */
const MAX_BATCH_ROWS = 4096;

export class ServableModel {
  readonly compiled: CompiledInputs;
  private queue: PendingRun[] = [];
  private flushScheduled = false;
  private inFlight = 0;
  private retired = false;
  private released = false;

  constructor(
    readonly ref: ModelVersionRef,
    readonly inputs: ModelInputs,
    /** What the model answers: the task, and a classifier's classes. */
    readonly outputs: ModelOutputs,
    private readonly session: ort.InferenceSession,
    /** The parsed input example, kept to show callers a valid request. */
    readonly exampleRequest: unknown,
    /**
     * The MLmodel input signature's kind: MLflow's pyfunc feeds a tensor-signature model a numpy
     * array and a column-signature one a DataFrame, which decides the shape of its answers
     * (mlflow-scoring.ts).
     */
    readonly signatureKind: SignatureKind = 'none',
  ) {
    this.compiled = compileInputs(inputs);
  }

  get task(): ModelOutputs['task'] {
    return this.outputs.task;
  }

  get version(): string {
    return this.ref.version;
  }

  predict(input: ParsedInput): Promise<Prediction[]> {
    if (this.released) {
      return Promise.reject(new ModelProblem('MODEL_CORRUPT', `model version ${this.version} was released`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the I/O callbacks of this loop turn, so the requests that came in with it join.
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Runs the graph once for one request and hands back its outputs as they are, by name, in the
   * graph's output order: MLflow's scoring protocol (`/invocations`) answers them so. Not batched.
   */
  async runRaw(input: ParsedInput): Promise<RawOutput[]> {
    if (this.released) {
      throw new ModelProblem('MODEL_CORRUPT', `model version ${this.version} was released`);
    }
    this.inFlight++;
    try {
      let outputs: ort.InferenceSession.OnnxValueMapType;
      try {
        outputs = await this.session.run(this.feedsOf(input.tensors, input.rows));
      } catch (error) {
        throw new ModelProblem(
          'MODEL_CORRUPT',
          `the model failed on the input: ${describeError(error)}`,
          false,
          {
            cause: error,
          },
        );
      }
      return this.session.outputNames.map((name) => rawOutput(name, outputs[name]));
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0 && this.queue.length === 0) void this.release();
    }
  }

  private feedsOf(tensors: readonly TensorData[], rows: number): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    this.inputs.inputs.forEach((input, i) => {
      const dims = input.layout === 'vector' ? [rows] : [rows, input.width];
      feeds[input.name] = new ort.Tensor(input.elementType, tensors[i] as TensorData, dims);
    });
    return feeds;
  }

  /**
   * Frees the native session once no request is using it: after a swap, requests that picked up
   * this version just before may still be running on it.
   */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0 && this.queue.length === 0) void this.release();
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    this.flushScheduled = false;
    let batch: PendingRun[] = [];
    let rows = 0;
    for (const pending of queue) {
      if (rows > 0 && rows + pending.input.rows > MAX_BATCH_ROWS) {
        void this.runBatch(batch, rows);
        batch = [];
        rows = 0;
      }
      batch.push(pending);
      rows += pending.input.rows;
    }
    if (batch.length > 0) void this.runBatch(batch, rows);
  }

  private async runBatch(batch: PendingRun[], rows: number): Promise<void> {
    this.inFlight++;
    try {
      const tensors = this.inputs.inputs.map((_, i) =>
        batch.length === 1
          ? ((batch[0] as PendingRun).input.tensors[i] as TensorData)
          : concatRows(batch, i, rows),
      );
      const outputs = await this.session.run(this.feedsOf(tensors, rows));
      const predictions = this.outputs.decode(outputs, rows);
      let offset = 0;
      for (const pending of batch) {
        pending.resolve(
          batch.length === 1 ? predictions : predictions.slice(offset, offset + pending.input.rows),
        );
        offset += pending.input.rows;
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0 && this.queue.length === 0) void this.release();
    }
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release().catch(() => {});
  }
}

/** One graph output as onnxruntime returned it: its shape and its values, flat, as JSON values. */
export interface RawOutput {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: readonly (number | string | boolean)[];
}

function rawOutput(name: string, value: ort.OnnxValue | undefined): RawOutput {
  if (!(value instanceof ort.Tensor)) {
    throw new ModelProblem('MODEL_UNSUPPORTED', `output '${name}' is not a tensor`, true);
  }
  const data = value.data as ArrayLike<number | bigint | string | boolean>;
  const values: (number | string | boolean)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const cell = data[i] as number | bigint | string | boolean;
    values[i] = value.type === 'bool' ? Boolean(cell) : typeof cell === 'bigint' ? Number(cell) : cell;
  }
  return { name, dims: value.dims.map(Number), values };
}

/** One input's values of every request in the batch, one after the other. */
function concatRows(batch: readonly PendingRun[], input: number, rows: number): TensorData {
  const first = (batch[0] as PendingRun).input.tensors[input] as TensorData;
  if (Array.isArray(first)) return batch.flatMap((pending) => pending.input.tensors[input] as string[]);
  const width = first.length / (batch[0] as PendingRun).input.rows;
  const type =
    first instanceof Float32Array
      ? 'float32'
      : first instanceof Float64Array
        ? 'float64'
        : first instanceof Int32Array
          ? 'int32'
          : first instanceof BigInt64Array
            ? 'int64'
            : 'bool';
  const values = allocateTensor(type, rows * width) as Exclude<TensorData, string[]>;
  let offset = 0;
  for (const { input: parsed } of batch) {
    const part = parsed.tensors[input] as Exclude<TensorData, string[]>;
    (values as Float64Array).set(part as Float64Array, offset);
    offset += part.length;
  }
  return values;
}

/** Builds, inspects and warms a session for a downloaded model directory. */
export async function loadServableModel(
  ref: ModelVersionRef,
  files: ModelFiles,
  maxRows: number,
): Promise<ServableModel> {
  const directory = readServableDirectory(files);
  let graph: PreparedGraph;
  let session: ort.InferenceSession;
  try {
    graph = prepareGraph(directory.onnx);
    // One intra-op thread: tabular models are far too small to gain from splitting one run, and
    // concurrent requests already keep the cores busy.
    session = await ort.InferenceSession.create(graph.bytes, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  } catch (error) {
    throw new ModelProblem('MODEL_CORRUPT', `model.onnx does not load: ${describeError(error)}`, true, {
      cause: error,
    });
  }
  try {
    const inputs = describeModelInputs(directory.onnxInfo.inputs, {
      ...directory.inputHints,
      encoderCategories: graph.encoderCategories,
      float32Inputs: graph.float32Inputs,
    });
    const outputs = outputsOf(session.outputMetadata, graph, directory.onnxInfo);
    const model = new ServableModel(
      { ...ref, runId: ref.runId || directory.runId || '' },
      inputs,
      outputs,
      session,
      directory.exampleRequest,
      directory.signatureKind,
    );
    await warmUp(model, directory.exampleRequest, maxRows);
    return model;
  } catch (error) {
    await session.release().catch(() => {});
    throw error;
  }
}

/** A valid row: the first known category, "", false or 0 per column. */
function defaultRow(inputs: ModelInputs): Record<string, unknown> {
  return Object.fromEntries(
    inputs.columns.map((column) => [
      column.name,
      column.kind === 'string' ? (column.categories?.[0] ?? '') : column.kind === 'boolean' ? false : 0,
    ]),
  );
}

/** Runs the input example (or a row of defaults) once, so the first real request pays no lazy initialisation. */
async function warmUp(model: ServableModel, example: unknown, maxRows: number): Promise<void> {
  let input: ParsedInput;
  try {
    input = parsePredictRequest(example, model.compiled, Math.max(maxRows, 1000));
  } catch {
    input = parsePredictRequest({ instances: [defaultRow(model.inputs)] }, model.compiled, 1);
  }
  try {
    await model.predict(input);
  } catch (error) {
    throw new ModelProblem(
      'MODEL_CORRUPT',
      `the model fails on its warm-up input: ${describeError(error)}`,
      true,
      {
        cause: error,
      },
    );
  }
}

/**
 * One registered model version made servable: an onnxruntime session created from the
 * artifact's `model.onnx`, its input schema, and how to turn its outputs into predictions.
 *
 * A model is only handed out after it has answered its own input example (the warm-up), so a
 * version that cannot predict never replaces one that can.
 */
import * as ort from 'onnxruntime-node';
import { ONNX_METADATA_KEYS, type OnnxModelInfo } from '../onnx';
import { describeError, ModelProblem } from './errors';
import { readServableDirectory } from './model-directory';
import { onnxClassLabels } from './onnx-class-labels';
import {
  type CompiledSchema,
  compileSchema,
  type InputSchema,
  type ParsedInput,
  parsePredictRequest,
  type TensorElementType,
} from './predict-request';
import type { ModelFiles, ModelVersionRef } from './registry';

export interface ClassPrediction {
  readonly label: string | number;
  readonly probabilities: Record<string, number>;
}

/** A classifier's label with class probabilities, a regressor's number, or {output: value} for other graphs. */
export type Prediction = ClassPrediction | number | number[] | Record<string, unknown>;

type OutputDecoder = (outputs: ort.InferenceSession.OnnxValueMapType, rows: number) => Prediction[];

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
  readonly compiled: CompiledSchema;
  private queue: PendingRun[] = [];
  private flushScheduled = false;
  private inFlight = 0;
  private retired = false;
  private released = false;

  constructor(
    readonly ref: ModelVersionRef,
    readonly schema: InputSchema,
    readonly task: 'classification' | 'regression' | 'other',
    private readonly session: ort.InferenceSession,
    private readonly decode: OutputDecoder,
    /** The parsed input example, kept to show callers a valid request. */
    readonly exampleRequest: unknown,
  ) {
    this.compiled = compileSchema(schema);
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
      const values =
        batch.length === 1 ? (batch[0] as PendingRun).input.values : concatRows(batch, rows, this.schema);
      const tensor = new ort.Tensor(this.schema.elementType, values, [rows, this.schema.width]);
      const outputs = await this.session.run({ [this.schema.tensorName]: tensor });
      const predictions = this.decode(outputs, rows);
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

function concatRows(
  batch: readonly PendingRun[],
  rows: number,
  schema: InputSchema,
): Float32Array | Float64Array {
  const values =
    schema.elementType === 'float32'
      ? new Float32Array(rows * schema.width)
      : new Float64Array(rows * schema.width);
  let offset = 0;
  for (const { input } of batch) {
    values.set(input.values, offset);
    offset += input.values.length;
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
  const onnx = directory.onnx;
  const info = directory.onnxInfo;
  let session: ort.InferenceSession;
  try {
    // One intra-op thread: tabular models are far too small to gain from splitting one run, and
    // concurrent requests already keep the cores busy.
    session = await ort.InferenceSession.create(onnx, {
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
    const schema = inputSchema(session, directory.columns);
    const { task, decode } = outputDecoder(session, onnx, info);
    const model = new ServableModel(
      { ...ref, runId: ref.runId || directory.runId || '' },
      schema,
      task,
      session,
      decode,
      directory.exampleRequest,
    );
    await warmUp(model, directory.exampleRequest, maxRows);
    return model;
  } catch (error) {
    await session.release().catch(() => {});
    throw error;
  }
}

function inputSchema(session: ort.InferenceSession, columns: InputSchema['columns']): InputSchema {
  const inputs = session.inputMetadata;
  const input = inputs[0];
  if (inputs.length !== 1 || !input) {
    throw new ModelProblem(
      'MODEL_UNSUPPORTED',
      `the model has ${inputs.length} inputs (${session.inputNames.join(', ')}); only single-tensor models are served`,
      true,
    );
  }
  if (!input.isTensor || (input.type !== 'float32' && input.type !== 'float64')) {
    throw new ModelProblem(
      'MODEL_UNSUPPORTED',
      `input '${input.name}' is ${input.isTensor ? input.type : 'not a tensor'}; only float tensors are served`,
      true,
    );
  }
  const declared = input.shape.length === 2 ? input.shape[1] : undefined;
  const width = typeof declared === 'number' && declared > 0 ? declared : columns?.length;
  if (width === undefined) {
    throw new ModelProblem(
      'MODEL_UNSUPPORTED',
      `input '${input.name}' has shape [${input.shape.join(', ')}] and the model has no column signature; expected [N, F]`,
      true,
    );
  }
  if (columns && columns.length !== width) {
    throw new ModelProblem(
      'MODEL_CORRUPT',
      `the signature names ${columns.length} columns but input '${input.name}' takes ${width}`,
      true,
    );
  }
  const elementType: TensorElementType = input.type;
  return { tensorName: input.name, elementType, width, ...(columns ? { columns } : {}) };
}

function metadataList(info: OnnxModelInfo, key: string): string[] | undefined {
  const raw = info.metadata[key];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) && parsed.length > 0 ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Classifiers (ai.onnx.ml style): a label output of shape [N] next to a float [N, K]
 * probabilities output. Regressors: one float output of shape [N, 1] or [N].
 */
function outputDecoder(
  session: ort.InferenceSession,
  onnx: Uint8Array,
  info: OnnxModelInfo,
): { task: ServableModel['task']; decode: OutputDecoder } {
  const outputs = session.outputMetadata.filter((output) => output.isTensor);
  const labelOutput = outputs.find(
    (output) =>
      output.isTensor && (output.type === 'string' || output.type === 'int64') && output.shape.length === 1,
  );
  const probabilityOutput = outputs.find(
    (output) => output.isTensor && output.type === 'float32' && output.shape.length === 2,
  );
  if (labelOutput && probabilityOutput) {
    const classes = metadataList(info, ONNX_METADATA_KEYS.classes) ?? onnxClassLabels(onnx, labelOutput.name);
    return {
      task: 'classification',
      decode: classifierDecoder(labelOutput.name, probabilityOutput.name, classes),
    };
  }
  const numeric = outputs.filter(
    (output) => output.isTensor && (output.type === 'float32' || output.type === 'float64'),
  );
  const only = numeric[0];
  if (numeric.length === 1 && session.outputNames.length === 1 && only) {
    return { task: 'regression', decode: regressorDecoder(only.name) };
  }
  return { task: 'other', decode: genericDecoder(session.outputNames) };
}

function classifierDecoder(
  labelName: string,
  probabilityName: string,
  classes: string[] | undefined,
): OutputDecoder {
  return (outputs, rows) => {
    const labels = outputs[labelName]?.data;
    const probabilities = outputs[probabilityName];
    if (!labels || !probabilities)
      throw new ModelProblem('MODEL_CORRUPT', 'the model returned no label output');
    const k = probabilities.dims[1] ?? 0;
    const data = probabilities.data as Float32Array;
    const names = classes && classes.length === k ? classes : Array.from({ length: k }, (_, i) => String(i));
    const predictions: ClassPrediction[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const byClass: Record<string, number> = {};
      for (let c = 0; c < k; c++) byClass[names[c] ?? String(c)] = data[r * k + c] ?? Number.NaN;
      const label = labels[r];
      predictions[r] = {
        label: typeof label === 'bigint' ? Number(label) : (label as string | number),
        probabilities: byClass,
      };
    }
    return predictions;
  };
}

function regressorDecoder(name: string): OutputDecoder {
  return (outputs, rows) => {
    const tensor = outputs[name];
    if (!tensor) throw new ModelProblem('MODEL_CORRUPT', `the model returned no ${name} output`);
    const data = tensor.data as Float32Array | Float64Array;
    const perRow = rows === 0 ? 0 : data.length / rows;
    const predictions: Prediction[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      predictions[r] =
        perRow === 1 ? (data[r] ?? Number.NaN) : Array.from(data.subarray(r * perRow, (r + 1) * perRow));
    }
    return predictions;
  };
}

function genericDecoder(names: readonly string[]): OutputDecoder {
  return (outputs, rows) => {
    const predictions: Record<string, unknown>[] = Array.from({ length: rows }, () => ({}));
    for (const name of names) {
      const tensor = outputs[name];
      if (!tensor) continue;
      const perRow = rows === 0 ? 0 : tensor.data.length / rows;
      for (let r = 0; r < rows; r++) {
        const slice = Array.from(tensor.data as ArrayLike<unknown>).slice(r * perRow, (r + 1) * perRow);
        const row = predictions[r];
        if (row) row[name] = slice.map((v) => (typeof v === 'bigint' ? Number(v) : v));
      }
    }
    return predictions;
  };
}

/** Runs the input example (or a row of zeros) once, so the first real request pays no lazy initialisation. */
async function warmUp(model: ServableModel, example: unknown, maxRows: number): Promise<void> {
  let input: ParsedInput;
  try {
    input = parsePredictRequest(example, model.compiled, Math.max(maxRows, 1000));
  } catch {
    input = {
      rows: 1,
      values: new (model.schema.elementType === 'float32' ? Float32Array : Float64Array)(model.schema.width),
    };
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

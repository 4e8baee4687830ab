/**
 * Writes a fitted model as an MLflow model directory in the `onnx` flavor, laid out as
 * `mlflow.onnx.save_model` lays it out, so `mlflow.pyfunc.load_model` loads it:
 *
 *   MLmodel                          flavors onnx + python_function, signature, example info
 *   model.onnx                       the graph (see lambdas/core/onnx/graph-contract.ts)
 *   input_example.json               + serving_input_example.json, when an example is given
 *   conda.yaml, python_env.yaml, requirements.txt
 *   data_contract/input_schema.json  the data contract the model was trained under
 *
 * `buildModelDirectory` makes the files in memory (for uploading from a Lambda);
 * `writeModelDirectory` also puts them on disk.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exportToOnnx, ONNX_METADATA_KEYS } from '../onnx/export-model';
import { graphContractOf } from '../onnx/graph-contract';
import { inspectOnnx } from '../onnx/inspect-model';
import type { FittedModel } from '../training/model-types';
import { modelInputs } from '../training/preprocessing';
import { ModelFormatError } from './errors';
import { dataframeExample, type ExampleCell, inputExampleFiles } from './input-example';
import { type MetadataValue, MLMODEL_FILE, type MlModelDocument, serializeMlModel } from './mlmodel';
import {
  CONDA_FILE,
  DEFAULT_PYTHON_ENVIRONMENT,
  PYTHON_ENV_FILE,
  type PythonEnvironment,
  pythonEnvironmentFiles,
} from './python-environment';
import { signatureOf } from './signature';

/** The files of a model directory by path relative to it (`MLmodel`, `data_contract/input_schema.json`, …). */
export type ModelFiles = ReadonlyMap<string, Uint8Array>;

export const ONNX_MODEL_FILE = 'model.onnx';
export const DATA_CONTRACT_FILE = 'data_contract/input_schema.json';

/** The MLflow release whose layout is written (and that the interoperability test loads it with). */
export const MLFLOW_VERSION = '3.17.2';
/** The onnx release whose schema lambdas/core/onnx/proto-schema.ts vendors. */
export const ONNX_VERSION = '1.23.2';

/**
 * Keys this writer sets in MLmodel `metadata`; the caller's metadata may not use them. The same
 * keys as the ONNX file's `metadata_props`, so either file alone says what the model predicts from.
 */
export const MODEL_METADATA_KEYS = ONNX_METADATA_KEYS;

export interface ModelDirectoryOptions {
  readonly model: FittedModel;
  /** The exported model; exported from `model` when not given. */
  readonly onnxBytes?: Uint8Array;
  /**
   * A few raw input rows, values in the order of the model's input columns (`modelInputs`):
   * numbers, category strings, booleans, null when missing. Logged as a DataFrame example.
   */
  readonly inputExample?: readonly (readonly ExampleCell[])[];
  /** The data contract the model was trained under, written verbatim as JSON. */
  readonly dataContract: object;
  /** Extra entries for MLmodel's `metadata` (dataset version, training spec, …). */
  readonly metadata?: Readonly<Record<string, MetadataValue>>;
  /** Set when the directory is logged to a run, as `log_model` sets them. */
  readonly runId?: string;
  readonly artifactPath?: string;
  readonly modelId?: string;
  /** @default DEFAULT_PYTHON_ENVIRONMENT */
  readonly environment?: PythonEnvironment;
  /** @default now */
  readonly createdAt?: Date;
  /** @default a random UUID */
  readonly modelUuid?: string;
}

export function buildModelDirectory(options: ModelDirectoryOptions): ModelFiles {
  const { model } = options;
  const onnxBytes = options.onnxBytes ?? exportToOnnx(model);
  checkOnnxMatchesModel(onnxBytes, model);
  const utf8 = new TextEncoder();
  const files = new Map<string, Uint8Array>();
  files.set(ONNX_MODEL_FILE, onnxBytes);

  const example =
    options.inputExample &&
    inputExampleFiles(
      dataframeExample(
        modelInputs(model).map((input) => input.name),
        options.inputExample,
      ),
    );
  for (const [path, text] of example?.files ?? []) files.set(path, utf8.encode(text));
  if (options.dataContract === null || typeof options.dataContract !== 'object') {
    throw new ModelFormatError(
      'INVALID_OPTIONS',
      'the data contract must be a JSON object or array',
      'dataContract',
    );
  }
  files.set(DATA_CONTRACT_FILE, utf8.encode(JSON.stringify(options.dataContract, null, 2)));
  // As in MLflow, the size counts the model's own files, not MLmodel and the environment files.
  const modelSizeBytes = [...files.values()].reduce((sum, bytes) => sum + bytes.byteLength, 0);

  const environment = options.environment ?? DEFAULT_PYTHON_ENVIRONMENT;
  const document: MlModelDocument = {
    artifactPath: options.artifactPath ?? null,
    runId: options.runId ?? null,
    modelId: options.modelId ?? null,
    mlflowVersion: MLFLOW_VERSION,
    modelUuid: options.modelUuid ?? randomUUID().replaceAll('-', ''),
    utcTimeCreated: mlflowTimestamp(options.createdAt ?? new Date()),
    modelSizeBytes,
    onnx: {
      onnxVersion: ONNX_VERSION,
      data: ONNX_MODEL_FILE,
      // CPU only: the CUDA provider MLflow lists by default only produces a warning on CPU hosts.
      providers: ['CPUExecutionProvider'],
      onnxSessionOptions: null,
      code: null,
    },
    pythonFunction: {
      loaderModule: 'mlflow.onnx',
      data: ONNX_MODEL_FILE,
      env: { conda: CONDA_FILE, virtualenv: PYTHON_ENV_FILE },
      pythonVersion: environment.pythonVersion,
      code: null,
    },
    flavorNames: ['onnx', 'python_function'],
    signature: signatureOf(model),
    savedInputExampleInfo: example?.info ?? null,
    metadata: modelMetadata(model, options.metadata ?? {}),
  };
  files.set(MLMODEL_FILE, utf8.encode(serializeMlModel(document)));
  for (const [path, text] of pythonEnvironmentFiles(environment)) files.set(path, utf8.encode(text));
  return files;
}

/** Builds the directory and writes it under `dir`, which must be absent or empty (as in MLflow). */
export async function writeModelDirectory(dir: string, options: ModelDirectoryOptions): Promise<ModelFiles> {
  const files = buildModelDirectory(options);
  const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (existing.length > 0) {
    throw new ModelFormatError('DIRECTORY_NOT_EMPTY', `${dir} already exists and is not empty`, dir);
  }
  for (const [path, bytes] of files) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
  return files;
}

function modelMetadata(
  model: FittedModel,
  extra: Readonly<Record<string, MetadataValue>>,
): Record<string, MetadataValue> {
  const reserved = new Set<string>(Object.values(MODEL_METADATA_KEYS));
  const clash = Object.keys(extra).find((key) => reserved.has(key));
  if (clash) {
    throw new ModelFormatError(
      'INVALID_OPTIONS',
      `metadata key '${clash}' is reserved for the writer`,
      'metadata',
    );
  }
  const inputs = modelInputs(model);
  return {
    ...extra,
    [MODEL_METADATA_KEYS.features]: inputs.map((input) => input.name),
    [MODEL_METADATA_KEYS.categories]: Object.fromEntries(
      inputs.flatMap((input) => (input.kind === 'category' ? [[input.name, [...input.levels]]] : [])),
    ),
    [MODEL_METADATA_KEYS.task]: model.task,
    [MODEL_METADATA_KEYS.kind]: model.kind,
    ...(model.classes ? { [MODEL_METADATA_KEYS.classes]: [...model.classes] } : {}),
  };
}

/** Given ONNX bytes must be this model's graph, or the signature written beside them would lie. */
function checkOnnxMatchesModel(onnxBytes: Uint8Array, model: FittedModel): void {
  let info: ReturnType<typeof inspectOnnx>;
  try {
    info = inspectOnnx(onnxBytes);
  } catch (error) {
    throw new ModelFormatError('INVALID_OPTIONS', 'onnxBytes is not an ONNX model', 'onnxBytes', {
      cause: error,
    });
  }
  const contract = graphContractOf(model);
  const expected = contract.outputs.map((output) => output.name).join(', ');
  const actual = info.outputs.map((output) => output.name).join(', ');
  const expectedInputs = contract.inputs.map((input) => input.name).join(', ');
  const actualInputs = info.inputs.map((input) => input.name).join(', ');
  if (expectedInputs !== actualInputs) {
    throw new ModelFormatError(
      'INVALID_OPTIONS',
      `onnxBytes takes ${actualInputs}, the model's input columns are ${expectedInputs}`,
      'onnxBytes',
    );
  }
  if (expected !== actual) {
    throw new ModelFormatError(
      'INVALID_OPTIONS',
      `onnxBytes answers ${actual}, the model needs ${expected}`,
      'onnxBytes',
    );
  }
}

/** MLflow's `utc_time_created`: `str(datetime.utcnow())`, microseconds included. */
function mlflowTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 23).replace('T', ' ')}000`;
}

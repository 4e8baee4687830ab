/**
 * Reads any MLflow model directory in the `onnx` flavor: ours, or one a Python user saved with
 * `mlflow.onnx.log_model` / `save_model`, whose graph may name its inputs differently, take
 * several inputs, keep tensors in external data files, or carry a column signature.
 */
import { readdir, readFile } from 'node:fs/promises';
import { posix, relative, sep } from 'node:path';
import { OnnxFormatError } from '../onnx/errors';
import { ONNX_METADATA_KEYS } from '../onnx/export-model';
import { inlineExternalData } from '../onnx/external-data';
import { inspectOnnx, type OnnxModelInfo } from '../onnx/inspect-model';
import { ModelFormatError } from './errors';
import { type InputExample, parseInputExample } from './input-example';
import { MLMODEL_FILE, type MlModelDocument, parseMlModel } from './mlmodel';
import { DATA_CONTRACT_FILE, MODEL_METADATA_KEYS, type ModelFiles } from './model-directory-writer';
import type { ModelSignature } from './signature';

export interface ModelDirectory {
  readonly mlmodel: MlModelDocument;
  readonly signature: ModelSignature | null;
  readonly inputExample: InputExample | null;
  /** The ONNX model as one self-contained buffer (external data inlined), ready for a session. */
  readonly onnxBytes: Uint8Array;
  /** The graph's inputs and outputs as the ONNX file declares them. */
  readonly onnx: OnnxModelInfo;
  /**
   * The feature names in input-column order, from the first source that has them: a column
   * signature, MLmodel metadata, the ONNX metadata, the input example's columns; else null.
   */
  readonly featureNames: readonly string[] | null;
  /** `data_contract/input_schema.json`, parsed; null when the directory has none. */
  readonly dataContract: unknown;
}

export function readModelDirectory(files: ModelFiles): ModelDirectory {
  const mlmodelBytes = files.get(MLMODEL_FILE);
  if (!mlmodelBytes) throw missing(MLMODEL_FILE, 'the model directory has no MLmodel file');
  const mlmodel = parseMlModel(new TextDecoder().decode(mlmodelBytes));

  const onnxPath = posix.normalize(mlmodel.onnx.data);
  const rawOnnx = files.get(onnxPath);
  if (!rawOnnx) throw missing(onnxPath, `the onnx flavor's model file ${onnxPath} is missing`);
  const onnxDir = posix.dirname(onnxPath);
  let onnxBytes: Uint8Array;
  let onnx: OnnxModelInfo;
  try {
    onnxBytes = inlineExternalData(rawOnnx, (location) => files.get(posix.join(onnxDir, location)));
    onnx = inspectOnnx(onnxBytes);
  } catch (error) {
    if (!(error instanceof OnnxFormatError)) throw error;
    if (error.file !== undefined) throw missing(posix.join(onnxDir, error.file), error.message, error);
    throw new ModelFormatError('INVALID_ONNX', `${onnxPath}: ${error.message}`, onnxPath, { cause: error });
  }

  const info = mlmodel.savedInputExampleInfo;
  let inputExample: InputExample | null = null;
  if (info) {
    const bytes = files.get(info.artifactPath);
    if (!bytes)
      throw missing(info.artifactPath, `the input example ${info.artifactPath} named in MLmodel is missing`);
    inputExample = parseInputExample(info, bytes);
  }

  return {
    mlmodel,
    signature: mlmodel.signature,
    inputExample,
    onnxBytes,
    onnx,
    featureNames: featureNamesOf(mlmodel, onnx, inputExample),
    dataContract: parseDataContract(files.get(DATA_CONTRACT_FILE)),
  };
}

/** Loads a model directory from disk into the in-memory form `readModelDirectory` takes. */
export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const files = new Map<string, Uint8Array>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = `${entry.parentPath}${sep}${entry.name}`;
    files.set(relative(dir, path).split(sep).join('/'), new Uint8Array(await readFile(path)));
  }
  return files;
}

function featureNamesOf(
  mlmodel: MlModelDocument,
  onnx: OnnxModelInfo,
  example: InputExample | null,
): readonly string[] | null {
  const inputs = mlmodel.signature?.inputs ?? [];
  if (inputs.length > 0 && inputs.every((spec) => spec.kind === 'column' && spec.name !== null)) {
    return inputs.map((spec) => spec.name ?? '');
  }
  const fromMetadata = mlmodel.metadata?.[MODEL_METADATA_KEYS.features];
  if (isStringArray(fromMetadata)) return fromMetadata;
  const fromOnnx = onnx.metadata[ONNX_METADATA_KEYS.features];
  if (fromOnnx !== undefined) {
    const parsed = safeJson(fromOnnx);
    if (isStringArray(parsed)) return parsed;
  }
  return example?.kind === 'dataframe' ? example.columns : null;
}

function parseDataContract(bytes: Uint8Array | undefined): unknown {
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ModelFormatError('INVALID_DATA_CONTRACT', 'the data contract is not JSON', DATA_CONTRACT_FILE, {
      cause: error,
    });
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // foreign metadata under the same key: not ours, not an error
  }
}

function missing(path: string, message: string, cause?: unknown): ModelFormatError {
  return new ModelFormatError('MISSING_FILE', message, path, cause === undefined ? undefined : { cause });
}

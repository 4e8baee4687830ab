/**
 * The MLmodel file: YAML naming the flavors and their files, the signature and the input
 * example. Written with MLflow's key names and sorted keys (as `yaml.safe_dump` writes them) and
 * quoted the way PyYAML, a YAML 1.1 reader, needs (`utc_time_created` must stay a string).
 */
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { ModelFormatError } from './errors';
import type { SavedInputExampleInfo } from './input-example';
import { type ModelSignature, parseSignature, signatureToMlflow } from './signature';

export const MLMODEL_FILE = 'MLmodel';

export interface OnnxFlavorConfig {
  readonly onnxVersion: string;
  /** The ONNX file, relative to the model directory. */
  readonly data: string;
  /** onnxruntime execution providers: names, or [name, options] pairs. */
  readonly providers: readonly unknown[];
  readonly onnxSessionOptions: Readonly<Record<string, unknown>> | null;
  readonly code: string | null;
}

export interface PythonFunctionFlavorConfig {
  readonly loaderModule: string;
  readonly data: string | null;
  /** Environment files: conda and virtualenv (MLflow ≥ 2), or one conda file (older MLflow). */
  readonly env: { readonly conda: string; readonly virtualenv: string | null } | null;
  readonly pythonVersion: string | null;
  readonly code: string | null;
}

/** JSON-compatible values, the only kind MLflow's `metadata` mapping holds. */
export type MetadataValue =
  | string
  | number
  | boolean
  | null
  | MetadataValue[]
  | { [key: string]: MetadataValue };

export interface MlModelDocument {
  readonly artifactPath: string | null;
  readonly runId: string | null;
  readonly modelId: string | null;
  readonly mlflowVersion: string | null;
  readonly modelUuid: string | null;
  /** `YYYY-MM-DD HH:MM:SS.ffffff`, UTC, as MLflow writes it. */
  readonly utcTimeCreated: string | null;
  readonly modelSizeBytes: number | null;
  readonly onnx: OnnxFlavorConfig;
  readonly pythonFunction: PythonFunctionFlavorConfig | null;
  /** Every flavor the file lists, ours or not (e.g. `sklearn` beside `onnx`). */
  readonly flavorNames: readonly string[];
  readonly signature: ModelSignature | null;
  readonly savedInputExampleInfo: SavedInputExampleInfo | null;
  readonly metadata: Readonly<Record<string, MetadataValue>> | null;
}

export function serializeMlModel(doc: MlModelDocument): string {
  const onnx = {
    code: doc.onnx.code,
    data: doc.onnx.data,
    onnx_session_options: doc.onnx.onnxSessionOptions,
    onnx_version: doc.onnx.onnxVersion,
    providers: doc.onnx.providers,
  };
  const pyfunc = doc.pythonFunction && {
    ...(doc.pythonFunction.code === null ? {} : { code: doc.pythonFunction.code }),
    data: doc.pythonFunction.data,
    env: doc.pythonFunction.env,
    loader_module: doc.pythonFunction.loaderModule,
    python_version: doc.pythonFunction.pythonVersion,
  };
  const info = doc.savedInputExampleInfo;
  const yamlDoc = {
    ...(doc.artifactPath === null ? {} : { artifact_path: doc.artifactPath }),
    flavors: { onnx, ...(pyfunc ? { python_function: pyfunc } : {}) },
    is_signature_from_type_hint: false,
    ...(doc.metadata === null ? {} : { metadata: doc.metadata }),
    mlflow_version: doc.mlflowVersion,
    model_id: doc.modelId,
    ...(doc.modelSizeBytes === null ? {} : { model_size_bytes: doc.modelSizeBytes }),
    model_uuid: doc.modelUuid,
    prompts: null,
    ...(doc.runId === null ? {} : { run_id: doc.runId }),
    ...(info === null
      ? {}
      : {
          saved_input_example_info: {
            artifact_path: info.artifactPath,
            ...(info.pandasOrient === null ? {} : { pandas_orient: info.pandasOrient }),
            ...(info.servingInputPath === null ? {} : { serving_input_path: info.servingInputPath }),
            type: info.type,
          },
        }),
    ...(doc.signature === null ? {} : { signature: signatureToMlflow(doc.signature) }),
    type_hint_from_example: false,
    utc_time_created: doc.utcTimeCreated,
  };
  return stringify(yamlDoc, { version: '1.1', sortMapEntries: true, lineWidth: 0 });
}

const nullableString = z.string().nullish();

const ONNX_FLAVOR = z.looseObject({
  onnx_version: z.union([z.string(), z.number()]).transform(String).nullish(),
  data: z.string(),
  providers: z.union([z.array(z.unknown()), z.string()]).nullish(),
  onnx_session_options: z.record(z.string(), z.unknown()).nullish(),
  code: nullableString,
});

const PYFUNC_FLAVOR = z.looseObject({
  loader_module: z.string(),
  data: nullableString,
  env: z.union([z.string(), z.looseObject({ conda: z.string(), virtualenv: nullableString })]).nullish(),
  python_version: z.union([z.string(), z.number()]).transform(String).nullish(),
  code: nullableString,
});

const SAVED_EXAMPLE_INFO = z.looseObject({
  artifact_path: z.string(),
  type: z.string(),
  pandas_orient: nullableString,
  serving_input_path: nullableString,
});

const ML_MODEL = z.looseObject({
  artifact_path: nullableString,
  run_id: nullableString,
  model_id: nullableString,
  mlflow_version: z.union([z.string(), z.number()]).transform(String).nullish(),
  model_uuid: nullableString,
  utc_time_created: z.union([z.string(), z.date().transform((date) => date.toISOString())]).nullish(),
  model_size_bytes: z.number().nullish(),
  flavors: z.record(z.string(), z.unknown()),
  signature: z.unknown().optional(),
  saved_input_example_info: SAVED_EXAMPLE_INFO.nullish(),
  metadata: z.record(z.string(), z.json()).nullish(),
});

/** Parses an MLmodel file; it must have an `onnx` flavor (the only one this project serves). */
export function parseMlModel(text: string): MlModelDocument {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ModelFormatError('INVALID_MLMODEL', 'MLmodel is not valid YAML', MLMODEL_FILE, {
      cause: error,
    });
  }
  const parsed = ML_MODEL.safeParse(raw);
  if (!parsed.success) throw invalidMlModel(parsed.error);
  const mlmodel = parsed.data;
  const flavorNames = Object.keys(mlmodel.flavors);
  if (!('onnx' in mlmodel.flavors)) {
    throw new ModelFormatError(
      'UNSUPPORTED_FLAVOR',
      `the model has no onnx flavor (it has ${flavorNames.join(', ') || 'none'}); only ONNX models can be served`,
      MLMODEL_FILE,
    );
  }
  const onnx = ONNX_FLAVOR.safeParse(mlmodel.flavors.onnx);
  if (!onnx.success) throw invalidMlModel(onnx.error, 'flavors.onnx');
  const pyfunc =
    mlmodel.flavors.python_function === undefined
      ? null
      : PYFUNC_FLAVOR.safeParse(mlmodel.flavors.python_function);
  if (pyfunc && !pyfunc.success) throw invalidMlModel(pyfunc.error, 'flavors.python_function');
  const info = mlmodel.saved_input_example_info;
  return {
    artifactPath: mlmodel.artifact_path ?? null,
    runId: mlmodel.run_id ?? null,
    modelId: mlmodel.model_id ?? null,
    mlflowVersion: mlmodel.mlflow_version ?? null,
    modelUuid: mlmodel.model_uuid ?? null,
    utcTimeCreated: mlmodel.utc_time_created ?? null,
    modelSizeBytes: mlmodel.model_size_bytes ?? null,
    onnx: {
      onnxVersion: onnx.data.onnx_version ?? '',
      data: onnx.data.data,
      providers:
        typeof onnx.data.providers === 'string' ? [onnx.data.providers] : (onnx.data.providers ?? []),
      onnxSessionOptions: onnx.data.onnx_session_options ?? null,
      code: onnx.data.code ?? null,
    },
    pythonFunction: pyfunc?.success ? pythonFunctionConfig(pyfunc.data) : null,
    flavorNames,
    signature: parseSignature(mlmodel.signature),
    savedInputExampleInfo: info
      ? {
          artifactPath: info.artifact_path,
          type: info.type,
          pandasOrient: info.pandas_orient ?? null,
          servingInputPath: info.serving_input_path ?? null,
        }
      : null,
    metadata: mlmodel.metadata ?? null,
  };
}

function pythonFunctionConfig(flavor: z.infer<typeof PYFUNC_FLAVOR>): PythonFunctionFlavorConfig {
  const env = flavor.env;
  return {
    loaderModule: flavor.loader_module,
    data: flavor.data ?? null,
    env:
      env === null || env === undefined
        ? null
        : typeof env === 'string'
          ? { conda: env, virtualenv: null }
          : {
              conda: env.conda,
              virtualenv: env.virtualenv ?? null,
            },
    pythonVersion: flavor.python_version ?? null,
    code: flavor.code ?? null,
  };
}

function invalidMlModel(error: z.ZodError, prefix?: string): ModelFormatError {
  const issue = error.issues[0];
  const where = [prefix, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  return new ModelFormatError(
    'INVALID_MLMODEL',
    `MLmodel is not valid${where ? ` at ${where}` : ''}: ${issue?.message ?? 'unexpected shape'}`,
    MLMODEL_FILE,
  );
}

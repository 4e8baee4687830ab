/**
 * MLflow's entities and response bodies as the REST API 2.0 returns them (snake_case, as in MLflow's
 * REST API reference), validated with zod where they enter the process. Only the fields this project
 * reads are required; everything optional in MLflow's protos is optional here, and unknown fields
 * are dropped, so a newer server does not break an older client.
 */
import { z } from 'zod';

/** int64 fields: MLflow writes them as JSON numbers, protobuf's JSON mapping as decimal strings. */
const int64 = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
/** double fields: a non-finite value arrives as the string "NaN", "Infinity" or "-Infinity". */
const double = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]);

const keyValue = z.object({ key: z.string(), value: z.string().default('') });

/**
 * One page of a search: the items under `key` (MLflow leaves an empty list out of the body) and
 * the token of the next page, absent on the last.
 */
function searchPage<K extends string, T extends z.ZodType>(key: K, item: T) {
  // A computed key widens to `string`; the cast names it again, so callers get `key`'s own type.
  const shape = { [key]: z.array(item).default([]), next_page_token: z.string().optional() };
  return z.object(
    shape as Record<K, z.ZodDefault<z.ZodArray<T>>> & { next_page_token: z.ZodOptional<z.ZodString> },
  );
}

// --- experiments ---------------------------------------------------------------------------------

export const ExperimentSchema = z.object({
  experiment_id: z.string(),
  name: z.string(),
  artifact_location: z.string().optional(),
  /** `active` or `deleted`. */
  lifecycle_stage: z.string().optional(),
  creation_time: int64.optional(),
  last_update_time: int64.optional(),
  tags: z.array(keyValue).default([]),
});
export type Experiment = z.output<typeof ExperimentSchema>;

export const ExperimentResponseSchema = z.object({ experiment: ExperimentSchema });
export const SearchExperimentsResponseSchema = searchPage('experiments', ExperimentSchema);
export type SearchExperimentsResponse = z.output<typeof SearchExperimentsResponseSchema>;
export const CreateExperimentResponseSchema = z.object({ experiment_id: z.string() });

// --- runs ----------------------------------------------------------------------------------------

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RunInfoSchema = z.object({
  run_id: z.string(),
  experiment_id: z.string(),
  run_name: z.string().optional(),
  user_id: z.string().optional(),
  status: z.enum(RUN_STATUSES),
  start_time: int64.optional(),
  end_time: int64.optional(),
  /** `mlflow-artifacts:/<experiment>/<run>/artifacts` when the server proxies artifacts, else e.g. `s3://…`. */
  artifact_uri: z.string(),
  /** `active` or `deleted`. */
  lifecycle_stage: z.string().optional(),
});
export type RunInfo = z.output<typeof RunInfoSchema>;

export const MetricSchema = z.object({
  key: z.string(),
  value: double,
  timestamp: int64,
  step: int64.default(0),
});
export type Metric = z.output<typeof MetricSchema>;

export const ParamSchema = keyValue;
export type Param = z.output<typeof ParamSchema>;
export const RunTagSchema = keyValue;
export type RunTag = z.output<typeof RunTagSchema>;

export const DatasetSchema = z.object({
  name: z.string(),
  digest: z.string(),
  source_type: z.string(),
  source: z.string(),
  schema: z.string().optional(),
  profile: z.string().optional(),
});
export type Dataset = z.output<typeof DatasetSchema>;

export const DatasetInputSchema = z.object({
  tags: z.array(keyValue).default([]),
  dataset: DatasetSchema,
});
export type DatasetInput = z.output<typeof DatasetInputSchema>;

export const RunSchema = z.object({
  info: RunInfoSchema,
  data: z
    .object({
      metrics: z.array(MetricSchema).default([]),
      params: z.array(ParamSchema).default([]),
      tags: z.array(RunTagSchema).default([]),
    })
    .prefault({}),
  inputs: z.object({ dataset_inputs: z.array(DatasetInputSchema).default([]) }).prefault({}),
  /** MLflow 3: the LoggedModels the run produced. */
  outputs: z
    .object({
      model_outputs: z.array(z.object({ model_id: z.string(), step: int64.default(0) })).default([]),
    })
    .prefault({}),
});
export type Run = z.output<typeof RunSchema>;

export const RunResponseSchema = z.object({ run: RunSchema });
export const UpdateRunResponseSchema = z.object({ run_info: RunInfoSchema });
export const SearchRunsResponseSchema = searchPage('runs', RunSchema);
export type SearchRunsResponse = z.output<typeof SearchRunsResponseSchema>;

// --- artifacts -----------------------------------------------------------------------------------

export const FileInfoSchema = z.object({
  path: z.string(),
  is_dir: z.boolean().default(false),
  file_size: int64.optional(),
});
export type FileInfo = z.output<typeof FileInfoSchema>;

/** `GET /api/2.0/mlflow/artifacts/list`: paths relative to the run's artifact root. */
export const ListArtifactsResponseSchema = z.object({
  root_uri: z.string().optional(),
  files: z.array(FileInfoSchema).default([]),
  next_page_token: z.string().optional(),
});
export type ListArtifactsResponse = z.output<typeof ListArtifactsResponseSchema>;

/** `GET /api/2.0/mlflow-artifacts/artifacts?path=`: base names of the listed directory's entries. */
export const ListProxiedArtifactsResponseSchema = z.object({ files: z.array(FileInfoSchema).default([]) });

// --- logged models (MLflow 3) ---------------------------------------------------------------------

export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_STATUS_UNSPECIFIED',
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

export const LoggedModelSchema = z.object({
  info: z.object({
    model_id: z.string(),
    experiment_id: z.string(),
    name: z.string().optional(),
    /** Where the model's files go: `mlflow-artifacts:/<experiment>/models/<model_id>/artifacts`, … */
    artifact_uri: z.string(),
    source_run_id: z.string().optional(),
    model_type: z.string().optional(),
    status: z.enum(LOGGED_MODEL_STATUSES).optional(),
    creation_timestamp_ms: int64.optional(),
    tags: z.array(keyValue).default([]),
  }),
  data: z.object({ params: z.array(keyValue).default([]) }).default({ params: [] }),
});
export type LoggedModel = z.output<typeof LoggedModelSchema>;
export const LoggedModelResponseSchema = z.object({ model: LoggedModelSchema });

// --- model registry ------------------------------------------------------------------------------

export const MODEL_VERSION_STATUSES = ['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY'] as const;

export const ModelVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  creation_timestamp: int64.optional(),
  last_updated_timestamp: int64.optional(),
  description: z.string().optional(),
  user_id: z.string().optional(),
  /** Deprecated stages (`None`, `Staging`, …); aliases replace them. */
  current_stage: z.string().optional(),
  source: z.string().optional(),
  run_id: z.string().optional(),
  run_link: z.string().optional(),
  status: z.enum(MODEL_VERSION_STATUSES).optional(),
  status_message: z.string().optional(),
  tags: z.array(keyValue).default([]),
  /** Filled by the get and alias endpoints; the search endpoint leaves it out. */
  aliases: z.array(z.string()).default([]),
  /** MLflow 3: the logged model this version was registered from. */
  model_id: z.string().optional(),
});
export type ModelVersion = z.output<typeof ModelVersionSchema>;

export const RegisteredModelAliasSchema = z.object({ alias: z.string(), version: z.string() });
export type RegisteredModelAlias = z.output<typeof RegisteredModelAliasSchema>;

export const RegisteredModelSchema = z.object({
  name: z.string(),
  creation_timestamp: int64.optional(),
  last_updated_timestamp: int64.optional(),
  description: z.string().optional(),
  user_id: z.string().optional(),
  latest_versions: z.array(ModelVersionSchema).default([]),
  tags: z.array(keyValue).default([]),
  aliases: z.array(RegisteredModelAliasSchema).default([]),
});
export type RegisteredModel = z.output<typeof RegisteredModelSchema>;

export const RegisteredModelResponseSchema = z.object({ registered_model: RegisteredModelSchema });
export const SearchRegisteredModelsResponseSchema = searchPage('registered_models', RegisteredModelSchema);
export type SearchRegisteredModelsResponse = z.output<typeof SearchRegisteredModelsResponseSchema>;

export const ModelVersionResponseSchema = z.object({ model_version: ModelVersionSchema });
export const SearchModelVersionsResponseSchema = searchPage('model_versions', ModelVersionSchema);
export type SearchModelVersionsResponse = z.output<typeof SearchModelVersionsResponseSchema>;
export const DownloadUriResponseSchema = z.object({ artifact_uri: z.string() });

/** The `{}` that endpoints without a response body answer. */
export const EmptyResponseSchema = z.object({});

/** MLflow's error body: `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "…"}`. */
export const ErrorResponseSchema = z.object({
  error_code: z.string().optional(),
  message: z.string().optional(),
});

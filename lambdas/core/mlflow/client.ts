/**
 * A typed client for MLflow's REST API 2.0 (tracking, artifacts, model registry), one method per
 * endpoint, named after it, with request and response shapes as in MLflow's REST API reference.
 * A few helpers sit on top: get-or-create, log-batch splitting, whole-directory artifact transfers.
 *
 * It knows nothing of Lambda: the predict function, the pipeline steps, the local runner and the
 * benchmarks use it alike.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import {
  type ArtifactLocation,
  childLocation,
  encodeArtifactPath,
  joinArtifactPath,
  parseArtifactUri,
} from './artifact-location';
import {
  type ArtifactFile,
  type ArtifactStore,
  downloadDirectory,
  ProxyArtifactStore,
  S3ArtifactStore,
  uploadDirectory,
} from './artifact-store';
import { type Environment, mlflowClientOptionsFromEnv } from './config';
import { MlflowApiError, MlflowError, orUndefinedIfMissing } from './errors';
import { type KeyValue, type LogBatchRequest, splitLogBatch } from './log-batch';
import {
  CreateExperimentResponseSchema,
  DownloadUriResponseSchema,
  EmptyResponseSchema,
  type Experiment,
  ExperimentResponseSchema,
  type FileInfo,
  type ListArtifactsResponse,
  ListArtifactsResponseSchema,
  ListProxiedArtifactsResponseSchema,
  type LoggedModel,
  LoggedModelResponseSchema,
  type LoggedModelStatus,
  type ModelVersion,
  ModelVersionResponseSchema,
  type RegisteredModel,
  RegisteredModelResponseSchema,
  type Run,
  type RunInfo,
  RunResponseSchema,
  type RunStatus,
  type SearchExperimentsResponse,
  SearchExperimentsResponseSchema,
  type SearchModelVersionsResponse,
  SearchModelVersionsResponseSchema,
  type SearchRegisteredModelsResponse,
  SearchRegisteredModelsResponseSchema,
  type SearchRunsResponse,
  SearchRunsResponseSchema,
  UpdateRunResponseSchema,
} from './schemas';
import { type CallOptions, MlflowTransport, type RequestSpec, type TransportOptions } from './transport';

export interface MlflowClientOptions extends TransportOptions {
  /** For `s3://` artifact locations, read and written directly rather than through the server. */
  readonly s3?: {
    /** A local stand-in's endpoint (e.g. `http://127.0.0.1:4566`); path-style addressing is then used. */
    readonly endpoint?: string;
    readonly region?: string;
    /** Static credentials; the SDK's default chain (env, container, instance role) when left out. */
    readonly credentials?: {
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken?: string;
    };
    /** A ready client; `endpoint`, `region` and `credentials` are then ignored. */
    readonly client?: S3Client;
  };
}

// --- request shapes (snake_case, as on the wire) -------------------------------------------------

export interface CreateExperimentRequest {
  readonly name: string;
  readonly artifact_location?: string;
  readonly tags?: readonly KeyValue[];
}

export interface SearchExperimentsRequest {
  /** e.g. `name LIKE 'monitoring-%'` or `tags.team = 'ml'`. */
  readonly filter?: string;
  /** Per page; MLflow caps it at 50000. @default 1000 (the server refuses a search without one) */
  readonly max_results?: number;
  /** e.g. `['last_update_time DESC']`. */
  readonly order_by?: readonly string[];
  /** @default 'ACTIVE_ONLY' (MLflow's) */
  readonly view_type?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  readonly page_token?: string;
}

export interface CreateRunRequest {
  readonly experiment_id: string;
  readonly run_name?: string;
  readonly user_id?: string;
  /** Milliseconds since the epoch; defaults to now. */
  readonly start_time?: number;
  readonly tags?: readonly KeyValue[];
}

export interface UpdateRunRequest {
  readonly run_id: string;
  readonly status?: RunStatus;
  /** Milliseconds since the epoch. */
  readonly end_time?: number;
  readonly run_name?: string;
}

export interface SearchRunsRequest {
  readonly experiment_ids: readonly string[];
  /** MLflow's filter syntax, e.g. `metrics.accuracy > 0.9 and params.model = 'rf'`. */
  readonly filter?: string;
  readonly run_view_type?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  readonly max_results?: number;
  /** e.g. `['metrics.accuracy DESC']`. */
  readonly order_by?: readonly string[];
  readonly page_token?: string;
}

export interface DatasetRequest {
  readonly name: string;
  /** A content digest of the data; MLflow keeps at most 36 characters. */
  readonly digest: string;
  /** e.g. `s3`, `http`, `local`. */
  readonly source_type: string;
  /** JSON describing where the data is, e.g. `{"uri": "s3://bucket/key"}`. */
  readonly source: string;
  /** JSON, e.g. an MLflow column schema. */
  readonly schema?: string;
  /** JSON summary, e.g. `{"num_rows": 150}`. */
  readonly profile?: string;
}

export interface DatasetInputRequest {
  readonly dataset: DatasetRequest;
  readonly tags?: readonly KeyValue[];
}

export interface LogInputsRequest {
  readonly run_id: string;
  readonly datasets: readonly DatasetInputRequest[];
}

export interface ListArtifactsRequest {
  readonly run_id: string;
  /** Relative to the run's artifact root; the root when left out. */
  readonly path?: string;
  readonly page_token?: string;
}

export interface CreateRegisteredModelRequest {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly KeyValue[];
}

export interface SearchRegisteredModelsRequest {
  /** e.g. `name LIKE 'iris%'`. */
  readonly filter?: string;
  readonly max_results?: number;
  readonly order_by?: readonly string[];
  readonly page_token?: string;
}

export interface CreateLoggedModelRequest {
  readonly experiment_id: string;
  /** Shown in the UI; MLflow's `log_model` uses the `name` argument (e.g. `model`). */
  readonly name?: string;
  /** e.g. the flavor (`onnx`). */
  readonly model_type?: string;
  /** The run the model came from: the run's "Logged models" column links to it. */
  readonly source_run_id?: string;
  readonly params?: readonly KeyValue[];
  readonly tags?: readonly KeyValue[];
}

/** A model a run produced, as `runs/outputs` records it. */
export interface ModelOutputRequest {
  readonly model_id: string;
  readonly step: number;
}

export interface CreateModelVersionRequest {
  readonly name: string;
  /** Where the model's files are: `mlflow-artifacts:/…`, `s3://…`, `runs:/<run_id>/<path>`. */
  readonly source: string;
  readonly run_id?: string;
  readonly run_link?: string;
  readonly description?: string;
  readonly tags?: readonly KeyValue[];
  /** MLflow 3: the logged model this version is registered from. */
  readonly model_id?: string;
}

export interface SearchModelVersionsRequest {
  /** e.g. `name = 'iris' and run_id = '…'`. */
  readonly filter?: string;
  readonly max_results?: number;
  readonly order_by?: readonly string[];
  readonly page_token?: string;
}

export interface UpdateModelVersionRequest {
  readonly name: string;
  readonly version: string | number;
  readonly description?: string;
}

export interface ModelVersionTagRequest {
  readonly name: string;
  readonly version: string | number;
  readonly key: string;
  readonly value: string;
}

/** The run-input tag that says what a dataset was used for (MLflow's `mlflow.data.context`). */
export const DATASET_CONTEXT_TAG = 'mlflow.data.context';

/** A dataset input for `logInputs`, tagged with its context (`training`, `eval`, …). */
export function datasetInput(
  dataset: DatasetRequest,
  context?: string,
  tags: readonly KeyValue[] = [],
): DatasetInputRequest {
  return {
    dataset,
    tags: context === undefined ? [...tags] : [{ key: DATASET_CONTEXT_TAG, value: context }, ...tags],
  };
}

/** MLflow's limit on datasets per `runs/log-inputs` call. */
const MAX_DATASETS_PER_CALL = 1000;

const API = '/api/2.0/mlflow';
const PROXY = '/api/2.0/mlflow-artifacts/artifacts';

export class MlflowClient {
  private readonly http: MlflowTransport;
  private s3Client: S3Client | undefined;

  constructor(private readonly options: MlflowClientOptions) {
    this.http = new MlflowTransport(options);
    this.s3Client = options.s3?.client;
  }

  /** A client configured from `MLFLOW_TRACKING_URI` and friends (see `mlflowClientOptionsFromEnv`). */
  static fromEnv(env: Environment = process.env): MlflowClient {
    return new MlflowClient(mlflowClientOptionsFromEnv(env));
  }

  /** The tracking server's base URL. */
  get trackingUri(): string {
    return this.http.baseUrl;
  }

  // --- experiments -------------------------------------------------------------------------------

  /** `GET experiments/get`. */
  async getExperiment(experimentId: string, call?: CallOptions): Promise<Experiment> {
    const body = await this.apiGet(
      'experiments/get',
      { experiment_id: experimentId },
      ExperimentResponseSchema,
      call,
    );
    return body.experiment;
  }

  /** `GET experiments/get-by-name`; a missing experiment is an `MlflowApiError` RESOURCE_DOES_NOT_EXIST. */
  async getExperimentByName(name: string, call?: CallOptions): Promise<Experiment> {
    const body = await this.apiGet(
      'experiments/get-by-name',
      { experiment_name: name },
      ExperimentResponseSchema,
      call,
    );
    return body.experiment;
  }

  /** `POST experiments/search`: one page; pass `next_page_token` back as `page_token` for the next. */
  async searchExperiments(
    request: SearchExperimentsRequest = {},
    call?: CallOptions,
  ): Promise<SearchExperimentsResponse> {
    return this.apiSend(
      'POST',
      'experiments/search',
      { ...request, max_results: request.max_results ?? 1000 },
      SearchExperimentsResponseSchema,
      call,
    );
  }

  /** `POST experiments/create`; returns the new experiment's id. */
  async createExperiment(request: CreateExperimentRequest, call?: CallOptions): Promise<string> {
    const body = await this.apiSend(
      'POST',
      'experiments/create',
      request,
      CreateExperimentResponseSchema,
      call,
    );
    return body.experiment_id;
  }

  /** `POST experiments/delete` (MLflow keeps it, marked deleted, until garbage-collected). */
  async deleteExperiment(experimentId: string, call?: CallOptions): Promise<void> {
    await this.apiSend(
      'POST',
      'experiments/delete',
      { experiment_id: experimentId },
      EmptyResponseSchema,
      call,
    );
  }

  /**
   * The experiment of that name, created if there is none. Safe against a concurrent creator
   * (RESOURCE_ALREADY_EXISTS is answered by reading the winner's). A deleted experiment of that
   * name is refused: MLflow would not let one be created beside it.
   */
  async getOrCreateExperiment(
    name: string,
    options: Omit<CreateExperimentRequest, 'name'> = {},
    call?: CallOptions,
  ): Promise<Experiment> {
    let experiment = await orUndefinedIfMissing(this.getExperimentByName(name, call));
    if (!experiment) {
      try {
        return await this.getExperiment(await this.createExperiment({ ...options, name }, call), call);
      } catch (error) {
        if (!(error instanceof MlflowApiError && error.isAlreadyExists)) throw error;
        experiment = await this.getExperimentByName(name, call);
      }
    }
    if (experiment.lifecycle_stage === 'deleted') {
      throw new MlflowError(
        `experiment '${name}' (id ${experiment.experiment_id}) is deleted; restore it or pick another name`,
      );
    }
    return experiment;
  }

  /** `POST experiments/set-experiment-tag`. */
  async setExperimentTag(
    experimentId: string,
    key: string,
    value: string,
    call?: CallOptions,
  ): Promise<void> {
    await this.apiSend(
      'POST',
      'experiments/set-experiment-tag',
      { experiment_id: experimentId, key, value },
      EmptyResponseSchema,
      call,
    );
  }

  // --- runs --------------------------------------------------------------------------------------

  /** `POST runs/create`. */
  async createRun(request: CreateRunRequest, call?: CallOptions): Promise<Run> {
    const body = await this.apiSend(
      'POST',
      'runs/create',
      { ...request, start_time: request.start_time ?? Date.now() },
      RunResponseSchema,
      call,
    );
    return body.run;
  }

  /** `POST runs/update`: status, end time, name. */
  async updateRun(request: UpdateRunRequest, call?: CallOptions): Promise<RunInfo> {
    const body = await this.apiSend('POST', 'runs/update', request, UpdateRunResponseSchema, call);
    return body.run_info;
  }

  /** `runs/update` with a terminal status and the end time set to now. */
  async endRun(
    runId: string,
    status: Extract<RunStatus, 'FINISHED' | 'FAILED' | 'KILLED'> = 'FINISHED',
    call?: CallOptions,
  ): Promise<RunInfo> {
    return this.updateRun({ run_id: runId, status, end_time: Date.now() }, call);
  }

  /** `GET runs/get`. */
  async getRun(runId: string, call?: CallOptions): Promise<Run> {
    const body = await this.apiGet('runs/get', { run_id: runId }, RunResponseSchema, call);
    return body.run;
  }

  /** `POST runs/search`: one page; pass `next_page_token` back as `page_token` for the next. */
  async searchRuns(request: SearchRunsRequest, call?: CallOptions): Promise<SearchRunsResponse> {
    return this.apiSend('POST', 'runs/search', request, SearchRunsResponseSchema, call);
  }

  /**
   * `POST runs/log-batch`, split into as many calls as MLflow's limits need (1000 metrics, 100
   * params, 100 tags, 1000 entities, 1 MB per call); the calls go one after another, in order.
   * Returns the number of calls made. Metrics without a timestamp get the time of this call.
   */
  async logBatch(request: LogBatchRequest, call?: CallOptions): Promise<number> {
    const chunks = splitLogBatch(request);
    for (const chunk of chunks) {
      await this.apiSend('POST', 'runs/log-batch', chunk, EmptyResponseSchema, call);
    }
    return chunks.length;
  }

  /**
   * `POST runs/log-inputs`: datasets the run used, each with its digest and, by MLflow's
   * convention, a `mlflow.data.context` tag (see `datasetInput`).
   */
  async logInputs(request: LogInputsRequest, call?: CallOptions): Promise<void> {
    for (let start = 0; start < request.datasets.length; start += MAX_DATASETS_PER_CALL) {
      const datasets = request.datasets.slice(start, start + MAX_DATASETS_PER_CALL);
      await this.apiSend(
        'POST',
        'runs/log-inputs',
        { run_id: request.run_id, datasets },
        EmptyResponseSchema,
        call,
      );
    }
  }

  /** `POST runs/outputs` (MLflow 3): the models the run produced. */
  async logOutputs(runId: string, models: readonly ModelOutputRequest[], call?: CallOptions): Promise<void> {
    await this.apiSend('POST', 'runs/outputs', { run_id: runId, models }, EmptyResponseSchema, call);
  }

  // --- logged models (MLflow 3) ------------------------------------------------------------------

  /** `POST logged-models`: a PENDING model whose files then go to its `artifact_uri`. */
  async createLoggedModel(request: CreateLoggedModelRequest, call?: CallOptions): Promise<LoggedModel> {
    const body = await this.apiSend('POST', 'logged-models', request, LoggedModelResponseSchema, call);
    return body.model;
  }

  /** `PATCH logged-models/<id>`: READY once its files are uploaded, UPLOAD_FAILED otherwise. */
  async finalizeLoggedModel(
    modelId: string,
    status: Extract<LoggedModelStatus, 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED'>,
    call?: CallOptions,
  ): Promise<LoggedModel> {
    const body = await this.apiSend(
      'PATCH',
      `logged-models/${encodeURIComponent(modelId)}`,
      { model_id: modelId, status },
      LoggedModelResponseSchema,
      call,
    );
    return body.model;
  }

  /** `GET logged-models/<id>`. */
  async getLoggedModel(modelId: string, call?: CallOptions): Promise<LoggedModel> {
    const body = await this.apiGet(
      `logged-models/${encodeURIComponent(modelId)}`,
      {},
      LoggedModelResponseSchema,
      call,
    );
    return body.model;
  }

  // --- artifacts: endpoints ------------------------------------------------------------------------

  /** `GET artifacts/list`: one directory level of a run's artifacts, paths relative to its root. */
  async listArtifacts(request: ListArtifactsRequest, call?: CallOptions): Promise<ListArtifactsResponse> {
    return this.apiGet('artifacts/list', { ...request }, ListArtifactsResponseSchema, call);
  }

  /** `PUT mlflow-artifacts/artifacts/<path>`: `path` is below the proxy's root, e.g. `2/<run>/artifacts/x.json`. */
  async uploadArtifact(path: string, content: Uint8Array | string, call?: CallOptions): Promise<void> {
    await new ProxyArtifactStore(this.http, '').put(path, bytesOf(content), call);
  }

  /** `GET mlflow-artifacts/artifacts/<path>`. A missing file is an INTERNAL_ERROR in MLflow 3 (HTTP 500). */
  async downloadArtifact(path: string, call?: CallOptions): Promise<Uint8Array> {
    return new ProxyArtifactStore(this.http, '').get(path, call);
  }

  /** `GET mlflow-artifacts/artifacts?path=`: one directory level behind the proxy, as base names. */
  async listProxiedArtifacts(path = '', call?: CallOptions): Promise<FileInfo[]> {
    const body = await this.http.json(
      { ...call, method: 'GET', path: PROXY, query: { path: joinArtifactPath(path) || undefined } },
      ListProxiedArtifactsResponseSchema,
    );
    return body.files;
  }

  /** `DELETE mlflow-artifacts/artifacts/<path>`: a file, or a directory with everything below it. */
  async deleteArtifact(path: string, call?: CallOptions): Promise<void> {
    await this.http.json(
      { ...call, method: 'DELETE', path: `${PROXY}/${encodeArtifactPath(joinArtifactPath(path))}` },
      EmptyResponseSchema,
    );
  }

  // --- artifacts: by artifact URI (a run's artifact_uri, a model version's download URI) ----------

  /**
   * The artifacts below an artifact URI: through the server's proxy for `mlflow-artifacts:`,
   * directly in S3 for `s3://`, and `runs:/<run_id>/<path>` through that run's `artifact_uri`.
   */
  async artifactStore(artifactUri: string, call?: CallOptions): Promise<ArtifactStore> {
    return this.storeAt(parseArtifactUri(artifactUri), call);
  }

  /** Writes one artifact at `artifactPath` below `artifactUri`. */
  async writeArtifact(
    artifactUri: string,
    artifactPath: string,
    content: Uint8Array | string,
    call?: CallOptions,
  ): Promise<void> {
    await (await this.artifactStore(artifactUri, call)).put(artifactPath, bytesOf(content), call);
  }

  /** Reads one artifact; with no `artifactPath`, the URI names the file itself. */
  async readArtifact(artifactUri: string, artifactPath = '', call?: CallOptions): Promise<Uint8Array> {
    return (await this.artifactStore(artifactUri, call)).get(artifactPath, call);
  }

  /** Uploads a local file to `artifactPath` (default: its base name) below `artifactUri`. */
  async uploadFile(
    artifactUri: string,
    localPath: string,
    artifactPath?: string,
    call?: CallOptions,
  ): Promise<string> {
    const target = joinArtifactPath(artifactPath ?? basename(localPath));
    await (await this.artifactStore(artifactUri, call)).put(target, await readFile(localPath), call);
    return target;
  }

  /** Uploads every file below `localDir` to `artifactPath` below `artifactUri`; returns the artifact paths. */
  async uploadDirectory(
    artifactUri: string,
    localDir: string,
    artifactPath = '',
    call?: CallOptions,
  ): Promise<string[]> {
    return uploadDirectory(await this.artifactStore(artifactUri, call), localDir, artifactPath, call);
  }

  /** Every file below `artifactPath` (recursively), paths relative to `artifactUri`. */
  async listArtifactFiles(
    artifactUri: string,
    artifactPath = '',
    call?: CallOptions,
  ): Promise<ArtifactFile[]> {
    return (await this.artifactStore(artifactUri, call)).listFiles(joinArtifactPath(artifactPath), call);
  }

  /** Downloads one artifact to `localPath`, creating its directory. */
  async downloadFile(
    artifactUri: string,
    artifactPath: string,
    localPath: string,
    call?: CallOptions,
  ): Promise<void> {
    const content = await this.readArtifact(artifactUri, artifactPath, call);
    await mkdir(dirname(localPath), { recursive: true });
    await writeFile(localPath, content);
  }

  /** Downloads everything below `artifactPath` into `localDir`; returns the local files written. */
  async downloadDirectory(
    artifactUri: string,
    localDir: string,
    artifactPath = '',
    call?: CallOptions,
  ): Promise<string[]> {
    return downloadDirectory(await this.artifactStore(artifactUri, call), localDir, artifactPath, call);
  }

  // --- registered models -------------------------------------------------------------------------

  /** `POST registered-models/create`. */
  async createRegisteredModel(
    request: CreateRegisteredModelRequest,
    call?: CallOptions,
  ): Promise<RegisteredModel> {
    const body = await this.apiSend(
      'POST',
      'registered-models/create',
      request,
      RegisteredModelResponseSchema,
      call,
    );
    return body.registered_model;
  }

  /** `GET registered-models/get`. */
  async getRegisteredModel(name: string, call?: CallOptions): Promise<RegisteredModel> {
    const body = await this.apiGet('registered-models/get', { name }, RegisteredModelResponseSchema, call);
    return body.registered_model;
  }

  /** The registered model of that name, created if there is none (safe against a concurrent creator). */
  async getOrCreateRegisteredModel(
    name: string,
    options: Omit<CreateRegisteredModelRequest, 'name'> = {},
    call?: CallOptions,
  ): Promise<RegisteredModel> {
    const existing = await orUndefinedIfMissing(this.getRegisteredModel(name, call));
    if (existing) return existing;
    try {
      return await this.createRegisteredModel({ ...options, name }, call);
    } catch (error) {
      if (error instanceof MlflowApiError && error.isAlreadyExists)
        return this.getRegisteredModel(name, call);
      throw error;
    }
  }

  /** `GET registered-models/search`: one page. */
  async searchRegisteredModels(
    request: SearchRegisteredModelsRequest = {},
    call?: CallOptions,
  ): Promise<SearchRegisteredModelsResponse> {
    return this.apiGet(
      'registered-models/search',
      { ...request },
      SearchRegisteredModelsResponseSchema,
      call,
    );
  }

  /** `DELETE registered-models/delete`: the model with all its versions and aliases. */
  async deleteRegisteredModel(name: string, call?: CallOptions): Promise<void> {
    await this.apiSend('DELETE', 'registered-models/delete', { name }, EmptyResponseSchema, call);
  }

  // --- model versions ----------------------------------------------------------------------------

  /** `POST model-versions/create`. */
  async createModelVersion(request: CreateModelVersionRequest, call?: CallOptions): Promise<ModelVersion> {
    const body = await this.apiSend(
      'POST',
      'model-versions/create',
      request,
      ModelVersionResponseSchema,
      call,
    );
    return body.model_version;
  }

  /** `GET model-versions/get`. */
  async getModelVersion(name: string, version: string | number, call?: CallOptions): Promise<ModelVersion> {
    const body = await this.apiGet(
      'model-versions/get',
      { name, version: String(version) },
      ModelVersionResponseSchema,
      call,
    );
    return body.model_version;
  }

  /** `GET model-versions/search`: one page. MLflow leaves `aliases` out of these results. */
  async searchModelVersions(
    request: SearchModelVersionsRequest = {},
    call?: CallOptions,
  ): Promise<SearchModelVersionsResponse> {
    return this.apiGet('model-versions/search', { ...request }, SearchModelVersionsResponseSchema, call);
  }

  /** `PATCH model-versions/update` (the description). */
  async updateModelVersion(request: UpdateModelVersionRequest, call?: CallOptions): Promise<ModelVersion> {
    const body = await this.apiSend(
      'PATCH',
      'model-versions/update',
      { ...request, version: String(request.version) },
      ModelVersionResponseSchema,
      call,
    );
    return body.model_version;
  }

  /** `POST registered-models/set-tag`. */
  async setRegisteredModelTag(name: string, key: string, value: string, call?: CallOptions): Promise<void> {
    await this.apiSend('POST', 'registered-models/set-tag', { name, key, value }, EmptyResponseSchema, call);
  }

  /** `POST model-versions/set-tag`. */
  async setModelVersionTag(request: ModelVersionTagRequest, call?: CallOptions): Promise<void> {
    await this.apiSend(
      'POST',
      'model-versions/set-tag',
      { ...request, version: String(request.version) },
      EmptyResponseSchema,
      call,
    );
  }

  /** `DELETE model-versions/delete-tag`. */
  async deleteModelVersionTag(
    request: Omit<ModelVersionTagRequest, 'value'>,
    call?: CallOptions,
  ): Promise<void> {
    await this.apiSend(
      'DELETE',
      'model-versions/delete-tag',
      { ...request, version: String(request.version) },
      EmptyResponseSchema,
      call,
    );
  }

  /** `GET model-versions/get-download-uri`: where the version's files are (`mlflow-artifacts:/…`, `s3://…`). */
  async getModelVersionDownloadUri(
    name: string,
    version: string | number,
    call?: CallOptions,
  ): Promise<string> {
    const body = await this.apiGet(
      'model-versions/get-download-uri',
      { name, version: String(version) },
      DownloadUriResponseSchema,
      call,
    );
    return body.artifact_uri;
  }

  /** `DELETE model-versions/delete`. */
  async deleteModelVersion(name: string, version: string | number, call?: CallOptions): Promise<void> {
    await this.apiSend(
      'DELETE',
      'model-versions/delete',
      { name, version: String(version) },
      EmptyResponseSchema,
      call,
    );
  }

  // --- aliases -----------------------------------------------------------------------------------

  /** `POST registered-models/alias`: points `alias` at `version`, moving it if it pointed elsewhere. */
  async setRegisteredModelAlias(
    name: string,
    alias: string,
    version: string | number,
    call?: CallOptions,
  ): Promise<void> {
    await this.apiSend(
      'POST',
      'registered-models/alias',
      { name, alias, version: String(version) },
      EmptyResponseSchema,
      call,
    );
  }

  /**
   * `GET registered-models/alias`: the version an alias points at. A missing alias is an
   * `MlflowApiError` with `isNotFound` (MLflow 3 says INVALID_PARAMETER_VALUE, HTTP 400).
   */
  async getModelVersionByAlias(name: string, alias: string, call?: CallOptions): Promise<ModelVersion> {
    const body = await this.apiGet(
      'registered-models/alias',
      { name, alias },
      ModelVersionResponseSchema,
      call,
    );
    return body.model_version;
  }

  /** `DELETE registered-models/alias`. */
  async deleteRegisteredModelAlias(name: string, alias: string, call?: CallOptions): Promise<void> {
    await this.apiSend('DELETE', 'registered-models/alias', { name, alias }, EmptyResponseSchema, call);
  }

  // --- internals ---------------------------------------------------------------------------------

  /** `GET <endpoint>` below the REST API, with `query`, its answer checked against `schema`. */
  private apiGet<S extends z.ZodType>(
    endpoint: string,
    query: RequestSpec['query'],
    schema: S,
    call: CallOptions | undefined,
  ): Promise<z.output<S>> {
    return this.http.json({ ...call, method: 'GET', path: `${API}/${endpoint}`, query }, schema);
  }

  /** `POST`, `PATCH` or `DELETE <endpoint>` below the REST API, with `json` as the body. */
  private apiSend<S extends z.ZodType>(
    method: 'POST' | 'PATCH' | 'DELETE',
    endpoint: string,
    json: unknown,
    schema: S,
    call: CallOptions | undefined,
  ): Promise<z.output<S>> {
    return this.http.json({ ...call, method, path: `${API}/${endpoint}`, json }, schema);
  }

  private async storeAt(location: ArtifactLocation, call?: CallOptions): Promise<ArtifactStore> {
    switch (location.kind) {
      case 'proxy':
        return new ProxyArtifactStore(this.http, location.path);
      case 's3':
        return new S3ArtifactStore(() => this.s3(), location.bucket, location.key);
      case 'run': {
        const run = await this.getRun(location.runId, call);
        return this.storeAt(childLocation(parseArtifactUri(run.info.artifact_uri), location.path), call);
      }
    }
  }

  private s3(): S3Client {
    if (!this.s3Client) {
      const { endpoint, region, credentials } = this.options.s3 ?? {};
      this.s3Client = new S3Client({
        // A local stand-in (moto, LocalStack, MinIO) serves buckets by path, not by host name.
        ...(endpoint && { endpoint, forcePathStyle: true }),
        ...(region && { region }),
        ...(credentials && { credentials }),
      });
    }
    return this.s3Client;
  }
}

function bytesOf(content: Uint8Array | string): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content;
}

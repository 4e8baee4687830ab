/**
 * An in-memory stand-in for the lifecycle's TrackingClient seam (the part of MlflowClient it
 * uses): experiments, runs with their logged data, artifacts by URI, registered models, versions
 * and aliases. It answers missing aliases the way MLflow 3 does, so the not-found paths are real.
 */
import type { TrackingClient } from '../../lambdas/core/lifecycle';
import {
  type ArtifactFile,
  type ArtifactStore,
  type CreateLoggedModelRequest,
  type DatasetInputRequest,
  type Experiment,
  type KeyValue,
  type LoggedModel,
  MlflowApiError,
  type ModelOutputRequest,
  type ModelVersion,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
} from '../../lambdas/core/mlflow';

export interface FakeRun {
  info: RunInfo;
  params: Map<string, string>;
  metrics: Map<string, number>;
  tags: Map<string, string>;
  inputs: DatasetInputRequest[];
  /** The LoggedModels the run recorded as its outputs. */
  outputs: string[];
}

export class FakeTracking implements TrackingClient {
  readonly experiments = new Map<string, Experiment>();
  readonly runs = new Map<string, FakeRun>();
  /** Artifact files by full URI (`mlflow-artifacts:/1/<run>/artifacts/model/MLmodel`). */
  readonly artifacts = new Map<string, Uint8Array>();
  readonly versions = new Map<string, ModelVersion[]>();
  readonly aliases = new Map<string, Map<string, string>>();
  readonly loggedModels = new Map<string, LoggedModel>();
  /** Artifact uploads to the runs of these names fail (to fail one candidate's logging). */
  readonly failUploadsOfRuns = new Set<string>();
  private nextId = 1;

  async getOrCreateExperiment(
    name: string,
    options: { tags?: readonly KeyValue[] } = {},
  ): Promise<Experiment> {
    let experiment = [...this.experiments.values()].find((e) => e.name === name);
    if (!experiment) {
      experiment = {
        experiment_id: String(this.nextId++),
        name,
        lifecycle_stage: 'active',
        tags: [...(options.tags ?? [])],
      };
      this.experiments.set(experiment.experiment_id, experiment);
    }
    return experiment;
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const experiment = this.experiments.get(experimentId);
    if (!experiment)
      throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', 404, `no experiment ${experimentId}`, 'tag');
    this.experiments.set(experimentId, {
      ...experiment,
      tags: [...experiment.tags.filter((tag) => tag.key !== key), { key, value }],
    });
  }

  async createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel> {
    const modelId = `m-${this.nextId++}`;
    const model: LoggedModel = {
      info: {
        model_id: modelId,
        experiment_id: request.experiment_id,
        ...(request.name && { name: request.name }),
        ...(request.model_type && { model_type: request.model_type }),
        ...(request.source_run_id && { source_run_id: request.source_run_id }),
        artifact_uri: `mlflow-artifacts:/${request.experiment_id}/models/${modelId}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        tags: [...(request.tags ?? [])],
      },
      data: { params: [...(request.params ?? [])] },
    };
    this.loggedModels.set(modelId, model);
    return model;
  }

  async finalizeLoggedModel(
    modelId: string,
    status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED',
  ): Promise<LoggedModel> {
    const model = this.loggedModels.get(modelId);
    if (!model)
      throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', 404, `no logged model ${modelId}`, 'finalize');
    const finalized = { ...model, info: { ...model.info, status } };
    this.loggedModels.set(modelId, finalized);
    return finalized;
  }

  async logOutputs(runId: string, models: readonly ModelOutputRequest[]): Promise<void> {
    this.run(runId).outputs.push(...models.map((model) => model.model_id));
  }

  async createRun(request: {
    experiment_id: string;
    run_name?: string;
    tags?: readonly KeyValue[];
  }): Promise<Run> {
    const runId = `run${this.nextId++}`;
    const info: RunInfo = {
      run_id: runId,
      experiment_id: request.experiment_id,
      run_name: request.run_name ?? runId,
      status: 'RUNNING',
      artifact_uri: `mlflow-artifacts:/${request.experiment_id}/${runId}/artifacts`,
    };
    this.runs.set(runId, {
      info,
      params: new Map(),
      metrics: new Map(),
      tags: new Map((request.tags ?? []).map((tag) => [tag.key, tag.value])),
      inputs: [],
      outputs: [],
    });
    return {
      info,
      data: { metrics: [], params: [], tags: [] },
      inputs: { dataset_inputs: [] },
      outputs: { model_outputs: [] },
    };
  }

  async logBatch(request: {
    run_id: string;
    metrics?: readonly { key: string; value: number }[];
    params?: readonly KeyValue[];
    tags?: readonly KeyValue[];
  }): Promise<number> {
    const run = this.run(request.run_id);
    for (const param of request.params ?? []) run.params.set(param.key, param.value);
    for (const metric of request.metrics ?? []) run.metrics.set(metric.key, metric.value);
    for (const tag of request.tags ?? []) run.tags.set(tag.key, tag.value);
    return 1;
  }

  async logInputs(request: { run_id: string; datasets: readonly DatasetInputRequest[] }): Promise<void> {
    this.run(request.run_id).inputs.push(...request.datasets);
  }

  async endRun(
    runId: string,
    status: Extract<RunStatus, 'FINISHED' | 'FAILED' | 'KILLED'> = 'FINISHED',
  ): Promise<RunInfo> {
    const run = this.run(runId);
    run.info = { ...run.info, status };
    return run.info;
  }

  async artifactStore(artifactUri: string): Promise<ArtifactStore> {
    const root = artifactUri.replace(/\/+$/, '');
    const artifacts = this.artifacts;
    const ownerRun = [...this.loggedModels.values()].find((model) => root.startsWith(model.info.artifact_uri))
      ?.info.source_run_id;
    const failing = () =>
      [...this.runs.values()].some(
        (run) =>
          this.failUploadsOfRuns.has(run.info.run_name ?? '') &&
          (root.startsWith(run.info.artifact_uri) || run.info.run_id === ownerRun),
      );
    return {
      async put(path: string, content: Uint8Array) {
        if (failing()) throw new Error('artifact upload refused');
        artifacts.set(`${root}/${path}`, content);
      },
      async get(path: string) {
        const bytes = artifacts.get(`${root}/${path}`);
        if (!bytes) throw new MlflowApiError('INTERNAL_ERROR', 500, `no artifact ${path}`, 'GET artifact');
        return bytes;
      },
      async listFiles(path: string): Promise<ArtifactFile[]> {
        const prefix = path ? `${root}/${path}/` : `${root}/`;
        return [...artifacts.keys()]
          .filter((uri) => uri.startsWith(prefix))
          .map((uri) => ({ path: uri.slice(root.length + 1) }));
      },
    };
  }

  async getOrCreateRegisteredModel(name: string): Promise<RegisteredModel> {
    if (!this.versions.has(name)) this.versions.set(name, []);
    return { name, latest_versions: [], tags: [], aliases: [] };
  }

  async createModelVersion(request: {
    name: string;
    source: string;
    run_id?: string;
    description?: string;
    tags?: readonly KeyValue[];
    model_id?: string;
  }): Promise<ModelVersion> {
    const versions = this.versions.get(request.name);
    if (!versions)
      throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', 404, `no model ${request.name}`, 'create');
    const version: ModelVersion = {
      name: request.name,
      version: String(versions.length + 1),
      source: request.source,
      ...(request.run_id && { run_id: request.run_id }),
      ...(request.model_id && { model_id: request.model_id }),
      ...(request.description && { description: request.description }),
      status: 'READY',
      tags: [...(request.tags ?? [])],
      aliases: [],
    };
    versions.push(version);
    return version;
  }

  async getModelVersion(name: string, version: string | number): Promise<ModelVersion> {
    const found = this.versions.get(name)?.find((v) => v.version === String(version));
    if (!found) throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', 404, `no version ${version}`, 'get');
    return found;
  }

  async setModelVersionTag(request: {
    name: string;
    version: string | number;
    key: string;
    value: string;
  }): Promise<void> {
    const version = await this.getModelVersion(request.name, request.version);
    version.tags.push({ key: request.key, value: request.value });
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string | number): Promise<void> {
    await this.getModelVersion(name, version);
    const aliases = this.aliases.get(name) ?? new Map<string, string>();
    aliases.set(alias, String(version));
    this.aliases.set(name, aliases);
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const version = this.aliases.get(name)?.get(alias);
    if (version === undefined) {
      throw new MlflowApiError(
        'INVALID_PARAMETER_VALUE',
        400,
        `Registered model alias ${alias} not found.`,
        'alias',
      );
    }
    return this.getModelVersion(name, version);
  }

  async getModelVersionDownloadUri(name: string, version: string | number): Promise<string> {
    const source = (await this.getModelVersion(name, version)).source ?? '';
    // MLflow resolves a LoggedModel source to the model's artifact location.
    const logged = source.startsWith('models:/')
      ? this.loggedModels.get(source.slice('models:/'.length))
      : undefined;
    return logged?.info.artifact_uri ?? source;
  }

  /** Registers a model directory's files as a new version (a Production stand-in for the gate). */
  async registerFiles(name: string, files: ReadonlyMap<string, Uint8Array>): Promise<string> {
    const root = `mlflow-artifacts:/external/${name}/${this.nextId++}`;
    for (const [path, bytes] of files) this.artifacts.set(`${root}/${path}`, bytes);
    await this.getOrCreateRegisteredModel(name);
    return (await this.createModelVersion({ name, source: root })).version;
  }

  tagsOf(version: ModelVersion): Record<string, string> {
    return Object.fromEntries(version.tags.map((tag) => [tag.key, tag.value]));
  }

  private run(runId: string): FakeRun {
    const run = this.runs.get(runId);
    if (!run) throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', 404, `no run ${runId}`, 'run');
    return run;
  }
}

/**
 * An in-memory stand-in for the registry seam (`RegistryClient`): models, versions, aliases and
 * tags, with MLflow's "not found" answers, and a log of every write so tests can assert what was
 * (and was not) written.
 */
import {
  MlflowApiError,
  type ModelVersion,
  type RegisteredModel,
  type SearchModelVersionsRequest,
  type SearchModelVersionsResponse,
  type SearchRegisteredModelsResponse,
} from '../../lambdas/core/mlflow';
import type { RegistryClient } from '../../lambdas/core/registry';

interface FakeModel {
  created: number;
  tags: Map<string, string>;
  aliases: Map<string, string>;
  versions: Map<
    string,
    { created: number; runId: string; tags: Map<string, string>; status: 'READY' | 'FAILED_REGISTRATION' }
  >;
}

export type Write =
  | { kind: 'alias'; model: string; alias: string; version: string }
  | { kind: 'model-tag'; model: string; key: string; value: string }
  | { kind: 'version-tag'; model: string; version: string; key: string; value: string };

export class FakeRegistry implements RegistryClient {
  readonly models = new Map<string, FakeModel>();
  readonly writes: Write[] = [];
  /** Makes the next registered-model tag write fail, as MLflow would on a too-long value. */
  failNextModelTag = false;

  addModel(name: string, versions: number): this {
    const model: FakeModel = {
      created: 1_700_000_000_000,
      tags: new Map(),
      aliases: new Map(),
      versions: new Map(),
    };
    for (let v = 1; v <= versions; v++) {
      model.versions.set(String(v), {
        created: 1_700_000_000_000 + v * 1000,
        runId: `run${v}`,
        tags: new Map(),
        status: 'READY',
      });
    }
    this.models.set(name, model);
    return this;
  }

  model(name: string): FakeModel {
    const model = this.models.get(name);
    if (!model) throw notFound('registered-models/get', `Registered Model with name=${name} not found`);
    return model;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const model = this.model(name);
    return {
      name,
      creation_timestamp: model.created,
      latest_versions: [],
      tags: [...model.tags].map(([key, value]) => ({ key, value })),
      aliases: [...model.aliases].map(([alias, version]) => ({ alias, version })),
    };
  }

  async searchRegisteredModels(): Promise<SearchRegisteredModelsResponse> {
    return {
      registered_models: await Promise.all(
        [...this.models.keys()].sort().map((name) => this.getRegisteredModel(name)),
      ),
    };
  }

  async getModelVersion(name: string, version: string | number): Promise<ModelVersion> {
    const model = this.model(name);
    const found = model.versions.get(String(version));
    if (!found)
      throw notFound('model-versions/get', `Model Version (name=${name}, version=${version}) not found`);
    return {
      name,
      version: String(version),
      creation_timestamp: found.created,
      run_id: found.runId,
      status: found.status,
      tags: [...found.tags].map(([key, value]) => ({ key, value })),
      aliases: [...model.aliases].filter(([, v]) => v === String(version)).map(([alias]) => alias),
    };
  }

  async searchModelVersions(request: SearchModelVersionsRequest = {}): Promise<SearchModelVersionsResponse> {
    const name = /^name = '(.*)'$/.exec(request.filter ?? '')?.[1] ?? '';
    const model = this.models.get(name);
    if (!model) return { model_versions: [] };
    const numbers = [...model.versions.keys()]
      .sort((a, b) => Number(b) - Number(a))
      .slice(0, request.max_results);
    return {
      model_versions: await Promise.all(
        numbers.map(async (v) => ({ ...(await this.getModelVersion(name, v)), aliases: [] })),
      ),
    };
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string | number): Promise<void> {
    this.model(name).aliases.set(alias, String(version));
    this.writes.push({ kind: 'alias', model: name, alias, version: String(version) });
  }

  async setModelVersionTag(request: {
    name: string;
    version: string | number;
    key: string;
    value: string;
  }): Promise<void> {
    const version = this.model(request.name).versions.get(String(request.version));
    if (!version) throw notFound('model-versions/set-tag', 'not found');
    version.tags.set(request.key, request.value);
    this.writes.push({
      kind: 'version-tag',
      model: request.name,
      version: String(request.version),
      key: request.key,
      value: request.value,
    });
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    if (this.failNextModelTag) {
      this.failNextModelTag = false;
      throw new MlflowApiError(
        'BAD_REQUEST',
        400,
        'value too long for type character varying(5000)',
        'POST registered-models/set-tag',
      );
    }
    this.model(name).tags.set(key, value);
    this.writes.push({ kind: 'model-tag', model: name, key, value });
  }
}

function notFound(endpoint: string, message: string): MlflowApiError {
  return new MlflowApiError('RESOURCE_DOES_NOT_EXIST', 404, message, endpoint);
}

/**
 * The part of MLflow alias management talks to: the registry reads, the alias, and tags on
 * models and versions. `MlflowRegistryClient` satisfies it against a real server; unit tests stub it.
 */
import {
  type CallOptions,
  type Environment,
  MlflowClient,
  type MlflowClientOptions,
  mlflowClientOptionsFromEnv,
} from '../mlflow';
import { EmptyResponseSchema } from '../mlflow/schemas';
import { MlflowTransport } from '../mlflow/transport';

export interface RegisteredModelTagWriter {
  /** `POST registered-models/set-tag`. */
  setRegisteredModelTag(name: string, key: string, value: string, call?: CallOptions): Promise<void>;
}

export type RegistryClient = Pick<
  MlflowClient,
  | 'getRegisteredModel'
  | 'searchRegisteredModels'
  | 'getModelVersion'
  | 'searchModelVersions'
  | 'setRegisteredModelAlias'
  | 'setModelVersionTag'
> &
  RegisteredModelTagWriter;

/**
 * `MlflowClient` plus the registered-model tag endpoint, which the client does not have yet.
 * When it gains `setRegisteredModelTag` this class can go: `MlflowClient` then satisfies
 * `RegistryClient` as is.
 */
export class MlflowRegistryClient extends MlflowClient implements RegistryClient {
  // The client's own transport is private; a second one from the same options sends with the
  // same auth, retries and timeout.
  private readonly tagTransport: MlflowTransport;

  constructor(options: MlflowClientOptions) {
    super(options);
    this.tagTransport = new MlflowTransport(options);
  }

  /** A client configured from `MLFLOW_TRACKING_URI` and friends (see `mlflowClientOptionsFromEnv`). */
  static override fromEnv(env: Environment = process.env): MlflowRegistryClient {
    return new MlflowRegistryClient(mlflowClientOptionsFromEnv(env));
  }

  async setRegisteredModelTag(name: string, key: string, value: string, call?: CallOptions): Promise<void> {
    await this.tagTransport.json(
      {
        ...call,
        method: 'POST',
        path: '/api/2.0/mlflow/registered-models/set-tag',
        json: { name, key, value },
      },
      EmptyResponseSchema,
    );
  }
}

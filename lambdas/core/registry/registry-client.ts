/**
 * The part of MLflow alias management talks to: the registry reads, the alias, and tags on
 * models and versions. `MlflowClient` satisfies it against a real server; unit tests stub it.
 */
import type { MlflowClient } from '../mlflow';

export type RegistryClient = Pick<
  MlflowClient,
  | 'getRegisteredModel'
  | 'searchRegisteredModels'
  | 'getModelVersion'
  | 'searchModelVersions'
  | 'setRegisteredModelAlias'
  | 'setModelVersionTag'
  | 'setRegisteredModelTag'
>;

/**
 * The predict Lambda (API Gateway REST proxy): serves the ONNX model an MLflow alias points at.
 * Configuration is read and the default alias's model starts loading at cold start, during the
 * init phase; requests that arrive before it is loaded wait for it.
 */
import { ModelStore } from '../core/serving/model-store';
import { createPredictHandler } from './app';
import { loadPredictConfig } from './config';
import { createObservability, storeEvents } from './observability';
import { registryFor } from './registry';

const config = loadPredictConfig();
const observability = createObservability();

export const store = new ModelStore({
  registry: registryFor(config),
  modelName: config.modelName,
  defaultAlias: config.modelAlias,
  aliasTtlMs: config.aliasTtlMs,
  maxRows: config.maxRows,
  events: storeEvents(observability),
});
void store.warm();

export const handler = createPredictHandler({ store, maxBodyBytes: config.maxBodyBytes, ...observability });

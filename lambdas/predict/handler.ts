/**
 * The predict Lambda (API Gateway REST proxy): serves the ONNX model an alias's serving manifest
 * (SERVING_BUCKET) names. Configuration is read and the default alias's model starts loading from
 * S3 at cold start, during the init phase; requests that arrive before it is loaded wait for it.
 */
import { createPredictApp } from './app';
import { loadPredictConfig } from './config';

export const { handler, store } = createPredictApp(loadPredictConfig());
void store.warm();

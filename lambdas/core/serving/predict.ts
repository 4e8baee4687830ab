/**
 * The predict use case, free of any transport: validate a scoring request against the model an
 * alias serves, run it, and say which model answered.
 */
import type { ModelStore } from './model-store';
import { parsePredictRequest } from './predict-request';
import type { Prediction } from './servable-model';

export interface PredictResponse {
  readonly predictions: Prediction[];
  readonly model: { name: string; version: string; alias: string; run_id: string };
}

export async function predict(
  store: ModelStore,
  body: unknown,
  alias = store.defaultAlias,
): Promise<PredictResponse> {
  const model = await store.model(alias);
  const input = parsePredictRequest(body, model.compiled, store.maxRows);
  const predictions = await model.predict(input);
  return {
    predictions,
    model: { name: store.modelName, version: model.version, alias, run_id: model.ref.runId },
  };
}

/**
 * Model directories for the predict unit tests, built in code with the project's exporter and
 * model-directory writer: the same files the TS trainer logs to MLflow.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { buildModelDirectory } from '../../lambdas/core/model-format';
import type { ModelFiles } from '../../lambdas/core/serving/registry';
import type { LinearModel } from '../../lambdas/core/training/model-types';
import type { PredictConfig } from '../../lambdas/predict/config';
import { InMemoryRegistry } from '../support/in-memory-registry';

export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
export const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'];
export const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
export const VIRGINICA = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };

/** A softmax classifier that separates the three iris species well enough for assertions. */
export function irisClassifier(): LinearModel {
  return {
    kind: 'linear',
    task: 'classification',
    features: IRIS_FEATURES,
    classes: IRIS_CLASSES,
    coefficients: [
      [0.4, 1.4, -2.2, -1.0],
      [0.5, -1.6, 0.5, -1.3],
      [-1.6, -1.4, 2.4, 2.3],
    ],
    intercepts: [0.3, 1.0, -1.2],
    link: 'softmax',
  };
}

/** y = 2·x0 + 1 over one feature named `x`. */
export function lineRegressor(): LinearModel {
  return {
    kind: 'linear',
    task: 'regression',
    features: ['x'],
    coefficients: [[2]],
    intercepts: [1],
    link: 'identity',
  };
}

/**
 * The model directory the TS trainer logs (tensor signature, feature names in the metadata,
 * a DataFrame input example, the data contract); `onnx` replaces model.onnx (a corrupt artifact).
 */
export function modelFiles(model: LinearModel, options: { onnx?: Uint8Array } = {}): ModelFiles {
  const files = new Map(
    buildModelDirectory({
      model,
      inputExample: [model.features.map(() => 1)],
      dataContract: { fields: model.features.map((name) => ({ name, type: 'number' })) },
      runId: 'fixture-run',
    }),
  );
  if (options.onnx) files.set('model.onnx', options.onnx);
  return files;
}

/** An in-memory registry with the iris classifier as version 1 (run `run-1`) under 'Production'. */
export function irisRegistry(): InMemoryRegistry {
  const registry = new InMemoryRegistry('iris');
  registry.setAlias('Production', registry.addVersion(modelFiles(irisClassifier()), 'run-1').version);
  return registry;
}

/**
 * The predict settings for 'iris' @ Production. Its tracking URI is never called: the suites give
 * `createPredictApp` an in-memory registry.
 */
export function irisPredictConfig(
  limits: Pick<PredictConfig, 'aliasTtlMs' | 'maxRows' | 'maxBodyBytes'>,
): PredictConfig {
  return {
    servingBucket: 'serving-unit-test',
    modelName: 'iris',
    modelAlias: 'Production',
    allowedAliases: ['Production', 'Challenger'],
    apiAuth: 'iam',
    ...limits,
  };
}

/** An API Gateway REST proxy event as the adapter (and API Gateway) builds it. */
export function proxyEvent(
  request: {
    method?: string;
    path?: string;
    body?: string | null;
    headers?: Record<string, string>;
    query?: Record<string, string>;
  } = {},
): APIGatewayProxyEvent {
  const headers = request.headers ?? { 'Content-Type': 'application/json' };
  const query = request.query ?? null;
  return {
    resource: '/{proxy+}',
    path: request.path ?? '/predict',
    httpMethod: request.method ?? 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters:
      query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    pathParameters: null,
    stageVariables: null,
    body: request.body ?? null,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

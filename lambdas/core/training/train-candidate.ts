/**
 * What the training pipeline's Map state calls per candidate: train one spec on the training
 * rows, score it on the holdout. Pure functions: no I/O, no MLflow (the step handlers do that).
 */
import { type CandidateSpec, FAMILY_TASKS, type Family, parseCandidateSpec } from './candidate-specs';
import { CandidateSpecError, TrainingDataError } from './errors';
import { fitGradientBoostingClassifier, fitGradientBoostingRegressor } from './gradient-boosting';
import { fitLogisticRegression } from './logistic-regression';
import {
  type ClassificationMetrics,
  classificationMetrics,
  type RegressionMetrics,
  regressionMetrics,
} from './metrics';
import type { FittedModel, Task } from './model-types';
import { predict } from './predict';
import { matrixInputs, preprocessFrame } from './preprocessing';
import { fitRandomForestClassifier, fitRandomForestRegressor } from './random-forest';
import { fitRidge } from './ridge-regression';
import {
  type ClassificationData,
  type RegressionData,
  type TrainingData,
  validateMatrixAndTargets,
  validateTrainingData,
} from './training-data';

export type ModelMetrics = ClassificationMetrics | RegressionMetrics;

/**
 * Fits `spec` on `data`. The same spec, data and seed give the same model, to the bit.
 * Throws TrainingDataError for unusable data, CandidateSpecError for a bad spec or a family
 * that does not fit the task (ridge for classification, logistic regression for regression).
 */
export function trainCandidate(spec: CandidateSpec, data: TrainingData, seed: number): FittedModel {
  const checked = parseCandidateSpec(spec);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new CandidateSpecError(`the seed must be an integer in 0..2^32-1, got ${seed}`, 'seed');
  }
  if (!FAMILY_TASKS[checked.family].includes(data.task)) throw familyMismatch(checked.family, data.task);
  validateTrainingData(data);
  // The preprocessing goes with the model: the predictor and the ONNX graph apply it to raw columns.
  const inputs = [...(data.inputs ?? matrixInputs(data))];
  return { ...fitFamily(checked, data, seed), inputs };
}

function fitFamily(checked: CandidateSpec, data: TrainingData, seed: number): FittedModel {
  switch (checked.family) {
    case 'logistic_regression':
      if (data.task === 'classification') return fitLogisticRegression(data, checked.params);
      break;
    case 'ridge':
      if (data.task === 'regression') return fitRidge(data, checked.params);
      break;
    case 'random_forest': {
      const params = {
        ...checked.params,
        max_features: checked.params.max_features ?? (data.task === 'classification' ? 'sqrt' : 'all'),
      } as const;
      return data.task === 'classification'
        ? fitRandomForestClassifier(data, params, seed)
        : fitRandomForestRegressor(data, params, seed);
    }
    case 'gradient_boosting':
      return data.task === 'classification'
        ? fitGradientBoostingClassifier(data, checked.params, seed)
        : fitGradientBoostingRegressor(data, checked.params, seed);
  }
  throw familyMismatch(checked.family, data.task);
}

function familyMismatch(family: Family, task: Task): CandidateSpecError {
  return new CandidateSpecError(
    `${family} does not do ${task} (it does ${FAMILY_TASKS[family].join(', ')})`,
    'family',
  );
}

/**
 * Holdout metrics of a fitted model: accuracy, f1_macro, log_loss (+ roc_auc for two classes)
 * or rmse, mae, r2. The data must have the model's features (same names, same order) and,
 * for classification, its classes.
 */
export function evaluate(model: FittedModel, data: ClassificationData): ClassificationMetrics;
export function evaluate(model: FittedModel, data: RegressionData): RegressionMetrics;
export function evaluate(model: FittedModel, data: TrainingData): ModelMetrics;
export function evaluate(model: FittedModel, data: TrainingData): ModelMetrics {
  if (model.task !== data.task) {
    throw new TrainingDataError(
      'FEATURE_MISMATCH',
      `a ${model.task} model cannot be scored on ${data.task} data`,
      'task',
    );
  }
  // Raw rows go through the model's own preprocessing (its levels and means, fitted on its
  // training rows); a bare matrix must already be in the model's features.
  const x = model.inputs && data.raw ? preprocessFrame(model.inputs, data.raw) : data.x;
  if (!(model.inputs && data.raw)) checkSameNames(model.features, data.features, 'features');
  validateMatrixAndTargets(data);
  if (data.task === 'classification') checkSameNames(model.classes ?? [], data.classes, 'classes');
  const prediction = predict(model, x, data.rows);
  return prediction.task === 'regression'
    ? regressionMetrics(data.y, prediction.values)
    : classificationMetrics(data.y, prediction.labels, prediction.probabilities, prediction.classes.length);
}

function checkSameNames(expected: readonly string[], actual: readonly string[], field: string): void {
  const same = expected.length === actual.length && expected.every((name, i) => name === actual[i]);
  if (!same) {
    throw new TrainingDataError(
      'FEATURE_MISMATCH',
      `the data's ${field} [${actual.join(', ')}] differ from the model's [${expected.join(', ')}]`,
      field,
    );
  }
}

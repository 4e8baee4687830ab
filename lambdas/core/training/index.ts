/**
 * Model training in TypeScript: trainers for linear and tree-ensemble models, their predictor,
 * holdout metrics and candidate selection. Fitted models are plain JSON (model-types.ts).
 */
export {
  type CandidateSpec,
  defaultCandidates,
  FAMILY_TASKS,
  type Family,
  parseCandidateSpec,
} from './candidate-specs';
export { CandidateSpecError, type TrainingDataCode, TrainingDataError } from './errors';
export type { GradientBoostingParams } from './gradient-boosting';
export { type HoldoutSplit, holdoutSplit } from './holdout-split';
export type { LogisticRegressionParams } from './logistic-regression';
export {
  accuracy,
  type ClassificationMetricName,
  type ClassificationMetrics,
  classificationMetrics,
  f1Macro,
  HIGHER_IS_BETTER,
  isMetricName,
  logLoss,
  type MetricName,
  mae,
  type RegressionMetricName,
  type RegressionMetrics,
  r2,
  regressionMetrics,
  rmse,
  rocAuc,
} from './metrics';
export { rankCandidates, type ScoredCandidate, selectBest } from './model-selection';
export type * from './model-types';
export {
  type ClassificationPrediction,
  labelNames,
  type Prediction,
  predict,
  predictFrame,
  type RegressionPrediction,
} from './predict';
export { expandedFeatureNames, matrixInputs, modelInputs, preprocessFrame } from './preprocessing';
export type { RandomForestParams } from './random-forest';
export type { RidgeParams } from './ridge-regression';
export { evaluate, type ModelMetrics, trainCandidate } from './train-candidate';
export {
  type ClassificationData,
  type FeatureMatrix,
  type RegressionData,
  selectRows,
  type TrainingData,
  validateFeatureMatrix,
  validateTrainingData,
} from './training-data';

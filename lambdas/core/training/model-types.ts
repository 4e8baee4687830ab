/**
 * Fitted model parameters, plain JSON-serialisable data shared by the trainers (which produce
 * them), the TypeScript predictor and the ONNX exporter (which consume them).
 *
 * Inputs are always a dense float matrix of the model's `features`, in that order.
 */
export type Task = 'classification' | 'regression';

/** x' = (x - mean) / scale, feature by feature (ONNX Scaler: offset = mean, scale = 1 / scale). */
export interface StandardScaler {
  readonly mean: number[];
  readonly scale: number[];
}

export interface LinearModel {
  readonly kind: 'linear';
  readonly task: Task;
  readonly features: string[];
  /** Class labels in output order (classification only). */
  readonly classes?: string[];
  readonly scaler?: StandardScaler;
  /** [output][feature]: one row per class for multinomial, one row for binary/regression. */
  readonly coefficients: number[][];
  readonly intercepts: number[];
  /** softmax (multinomial), logistic (binary: one row = score of classes[1]), identity (regression). */
  readonly link: 'softmax' | 'logistic' | 'identity';
}

/**
 * One decision tree in flat arrays; node 0 is the root. A branch sends x to `left[n]` when
 * x[feature[n]] <= threshold[n] (ONNX BRANCH_LEQ), else to `right[n]`; leaves have left = right = -1
 * and carry `value[n]`, one number per output (class or regression target).
 */
export interface DecisionTree {
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[][];
}

export interface TreeEnsembleModel {
  readonly kind: 'trees';
  readonly task: Task;
  readonly features: string[];
  readonly classes?: string[];
  readonly trees: DecisionTree[];
  /** How leaf values combine: average (random forest) or sum (boosting; learning rate folded into leaves). */
  readonly aggregate: 'average' | 'sum';
  /** Added to the aggregated score, one per output (boosting's initial prediction). */
  readonly baseValues: number[];
  /**
   * none: scores are probabilities (random forest) or the prediction (regression);
   * softmax: multiclass boosting; logistic: binary boosting (one output = score of classes[1]).
   */
  readonly postTransform: 'none' | 'softmax' | 'logistic';
}

export type FittedModel = LinearModel | TreeEnsembleModel;

/**
 * Fitted model parameters, plain JSON-serialisable data shared by the trainers (which produce
 * them), the TypeScript predictor and the ONNX exporter (which consume them).
 *
 * The estimators read a dense float matrix of the model's `features`, in that order. A model fitted
 * through `trainCandidate` also carries `inputs`: the raw columns it takes and how each becomes
 * those features (preprocessing.ts), which the predictor and the ONNX graph both apply.
 */
export type Task = 'classification' | 'regression';

/**
 * A raw numeric input column (contract number, integer, boolean or datetime). `dtype` is the
 * element type the ONNX graph takes it as: `double`; `int64` or `bool` for a non-nullable integer
 * or boolean column (a nullable one needs NaN for missing, so it stays `double`).
 */
export interface NumericInput {
  readonly name: string;
  readonly kind: 'numeric';
  readonly dtype: 'double' | 'int64' | 'bool';
  readonly nullable: boolean;
  /**
   * The training rows' mean, imputed for a missing value (scikit-learn's SimpleImputer(mean)).
   * null: the model imputes nothing (a model fitted on a bare matrix); NaN stays NaN.
   */
  readonly mean: number | null;
}

/**
 * A raw category column (strings), one-hot encoded onto `levels`: one feature `<name>=<level>` per
 * level. A value outside `levels`, or a missing one, encodes as all zeros (scikit-learn's
 * OneHotEncoder(handle_unknown='ignore')): the model answers as if it knew nothing of the column.
 */
export interface CategoryInput {
  readonly name: string;
  readonly kind: 'category';
  readonly nullable: boolean;
  readonly levels: string[];
}

export type InputColumn = NumericInput | CategoryInput;

/** x' = (x - mean) / scale, feature by feature (ONNX Scaler: offset = mean, scale = 1 / scale). */
export interface StandardScaler {
  readonly mean: number[];
  readonly scale: number[];
}

export interface LinearModel {
  readonly kind: 'linear';
  readonly task: Task;
  /** The estimator's columns: the expanded features (`<column>=<level>` for one-hot columns). */
  readonly features: string[];
  /** The raw input columns and their preprocessing; absent: `features` are the raw numeric inputs. */
  readonly inputs?: InputColumn[];
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
  /** The estimator's columns: the expanded features (`<column>=<level>` for one-hot columns). */
  readonly features: string[];
  /** The raw input columns and their preprocessing; absent: `features` are the raw numeric inputs. */
  readonly inputs?: InputColumn[];
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

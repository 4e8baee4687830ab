/**
 * The metric that picks the best candidate and decides the promotion gate: which metrics exist
 * for which task, which way is better, and the defaults.
 */
import { HIGHER_IS_BETTER, type MetricName } from '../training/metrics';
import type { Task } from '../training/model-types';
import { TrainingRequestError } from './errors';

/** As the training pipeline's contract spells it (lambdas/steps/step-io.ts `SelectionMetric`). */
export interface SelectionMetric {
  readonly name: string;
  readonly higherIsBetter: boolean;
}

interface MetricDefinition {
  readonly name: MetricName;
  readonly tasks: readonly Task[];
  /** Decides between candidates equal on the selection metric (e.g. accuracy after macro F1). */
  readonly tieBreaker: MetricName;
}

/** The holdout metrics the trainers' `evaluate` reports, by task; directions are the trainers' (HIGHER_IS_BETTER). */
const METRICS: readonly MetricDefinition[] = [
  { name: 'f1_macro', tasks: ['classification'], tieBreaker: 'accuracy' },
  { name: 'accuracy', tasks: ['classification'], tieBreaker: 'f1_macro' },
  { name: 'log_loss', tasks: ['classification'], tieBreaker: 'f1_macro' },
  // Binary classification only: `evaluate` leaves it out for more than two classes.
  { name: 'roc_auc', tasks: ['classification'], tieBreaker: 'log_loss' },
  { name: 'rmse', tasks: ['regression'], tieBreaker: 'mae' },
  { name: 'mae', tasks: ['regression'], tieBreaker: 'rmse' },
  { name: 'r2', tasks: ['regression'], tieBreaker: 'rmse' },
];

/**
 * Macro F1 for classification: with unbalanced classes accuracy rewards ignoring the small ones,
 * macro F1 does not (accuracy still breaks ties). RMSE for regression, MLflow's and most users' default.
 */
export const DEFAULT_SELECTION_METRIC: Readonly<Record<Task, MetricName>> = {
  classification: 'f1_macro',
  regression: 'rmse',
};

export function metricNamesFor(task: Task): string[] {
  return METRICS.filter((metric) => metric.tasks.includes(task)).map((metric) => metric.name);
}

/** The selection metric for `task`: the given name (checked) or the task's default. */
export function resolveSelectionMetric(task: Task, name?: string): SelectionMetric {
  const wanted = name ?? DEFAULT_SELECTION_METRIC[task];
  const definition = METRICS.find((metric) => metric.name === wanted);
  if (!definition?.tasks.includes(task)) {
    throw new TrainingRequestError(
      'metric',
      `'${wanted}' is not a ${task} metric; use one of ${metricNamesFor(task).join(', ')}`,
    );
  }
  return { name: definition.name, higherIsBetter: HIGHER_IS_BETTER[definition.name] };
}

/** The metric that breaks ties on `metric`, if any. */
export function tieBreakerOf(metric: SelectionMetric): SelectionMetric | undefined {
  const name = METRICS.find((definition) => definition.name === metric.name)?.tieBreaker;
  return name && { name, higherIsBetter: HIGHER_IS_BETTER[name] };
}

/**
 * -1 when `a` is better than `b`, 1 when worse, 0 when equal. A missing or NaN score is worse than
 * any number: a candidate that could not be scored never wins on it.
 */
export function compareScores(metric: SelectionMetric, a: number | undefined, b: number | undefined): number {
  const aKnown = a !== undefined && !Number.isNaN(a);
  const bKnown = b !== undefined && !Number.isNaN(b);
  if (!aKnown || !bKnown) return aKnown === bKnown ? 0 : aKnown ? -1 : 1;
  if (a === b) return 0;
  return a > b === metric.higherIsBetter ? -1 : 1;
}

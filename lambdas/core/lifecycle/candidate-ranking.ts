/**
 * Picking the best candidate from the small JSON results the "train one candidate" step returns:
 * pure, so the state machine's SelectBest step and the one-process CLI rank the same way.
 */
import { NoCandidateSucceededError } from './errors';
import { compareScores, type SelectionMetric, tieBreakerOf } from './selection-metric';

export interface SucceededCandidateResult {
  readonly status: 'succeeded';
  /** The candidate spec's name, unique within a training run (`logistic_regression`, `rf-small`, …). */
  readonly name: string;
  /** The trainer family (`logistic_regression`, `random_forest`, …). */
  readonly family: string;
  readonly runId: string;
  /** Where the model's files are (its LoggedModel's artifact location): the registered version's source. */
  readonly modelUri: string;
  /** MLflow 3's LoggedModel the files belong to; absent for results logged before it was used. */
  readonly modelId?: string;
  /** Holdout metrics by name (`accuracy`, `f1_macro`, `rmse`, …). */
  readonly metrics: Readonly<Record<string, number>>;
  readonly trainingSeconds: number;
}

export interface FailedCandidateResult {
  readonly status: 'failed';
  readonly name: string;
  readonly family: string;
  /** `ErrorName: message` of what stopped it. */
  readonly error: string;
  /** Set when the failure came after the MLflow run was created (the run is marked FAILED). */
  readonly runId?: string;
}

export type CandidateResult = SucceededCandidateResult | FailedCandidateResult;

export interface CandidateRanking {
  readonly best: SucceededCandidateResult;
  /** Every succeeded candidate, best first, with its score on the selection metric. */
  readonly ranking: readonly { readonly name: string; readonly value: number }[];
  readonly failed: readonly FailedCandidateResult[];
}

/**
 * Ranks the succeeded candidates by `metric`, ties broken by the metric's tie-breaker and then by
 * the order the candidates were given in (the caller's order is a deliberate preference, e.g.
 * simpler models first). Throws when no candidate succeeded.
 */
export function rankCandidateResults(
  results: readonly CandidateResult[],
  metric: SelectionMetric,
): CandidateRanking {
  const succeeded = results.filter(
    (result): result is SucceededCandidateResult => result.status === 'succeeded',
  );
  const failed = results.filter((result): result is FailedCandidateResult => result.status === 'failed');
  if (succeeded.length === 0) {
    throw new NoCandidateSucceededError(
      failed.map((result) => ({ candidate: result.name, error: result.error })),
    );
  }
  const tieBreaker = tieBreakerOf(metric);
  const order = succeeded
    .map((result, index) => ({ result, index }))
    .sort(
      (a, b) =>
        compareScores(metric, a.result.metrics[metric.name], b.result.metrics[metric.name]) ||
        (tieBreaker
          ? compareScores(tieBreaker, a.result.metrics[tieBreaker.name], b.result.metrics[tieBreaker.name])
          : 0) ||
        a.index - b.index,
    )
    .map(({ result }) => result);
  return {
    best: order[0] as SucceededCandidateResult,
    ranking: order.map((result) => ({ name: result.name, value: result.metrics[metric.name] ?? Number.NaN })),
    failed,
  };
}

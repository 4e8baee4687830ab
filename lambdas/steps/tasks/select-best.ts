/** Rank the Map's candidate results by the selection metric, with the core's ranking rules. */
import {
  type CandidateResult as CoreResult,
  rankCandidateResults,
} from '../../core/lifecycle/candidate-ranking';
import type { CandidateResult, SelectBestInput, SelectBestOutput, SucceededCandidate } from '../step-io';
import { StepInputError } from '../support/step-errors';

export function toCoreResult(result: CandidateResult): CoreResult {
  if (result.status === 'succeeded') {
    return {
      status: 'succeeded',
      name: result.candidateId,
      family: result.algorithm,
      runId: result.mlflowRunId,
      modelUri: result.modelUri,
      ...(result.modelId && { modelId: result.modelId }),
      metrics: result.metrics,
      trainingSeconds: result.metrics.training_seconds ?? 0,
    };
  }
  return {
    status: 'failed',
    name: result.candidateId,
    family: 'unknown',
    error: `${result.error}: ${result.cause}`,
  };
}

export function selectBest(input: SelectBestInput): SelectBestOutput {
  if (!Array.isArray(input.candidates))
    throw new StepInputError('candidates', 'must be the array of candidate results');
  const { best, ranking, failed } = rankCandidateResults(input.candidates.map(toCoreResult), input.selection);
  const winner = input.candidates.find(
    (c): c is SucceededCandidate => c.status === 'succeeded' && c.candidateId === best.name,
  ) as SucceededCandidate;
  return {
    best: winner,
    ranking: ranking.map((entry) => ({ candidateId: entry.name, value: entry.value })),
    failed: failed.length,
  };
}

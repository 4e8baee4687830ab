/** Read the `CandidateResult[]` the SageMaker trainer wrote; each entry is checked for its status. */
import type {
  CandidateResult,
  CollectSageMakerResultsInput,
  CollectSageMakerResultsOutput,
} from '../step-io';
import { getJson } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';

export async function collectSageMakerResults(
  input: CollectSageMakerResultsInput,
  context: StepContext,
): Promise<CollectSageMakerResultsOutput> {
  const where = `s3://${input.results.bucket}/${input.results.key}`;
  const results = await getJson(context.s3, input.results);
  if (!Array.isArray(results)) throw new StepInputError(where, 'must hold a JSON array of candidate results');
  results.forEach((result: { status?: unknown; candidateId?: unknown }, i) => {
    if (
      (result?.status !== 'succeeded' && result?.status !== 'failed') ||
      typeof result.candidateId !== 'string'
    ) {
      throw new StepInputError(`${where}[${i}]`, 'is not a candidate result {status, candidateId, …}');
    }
  });
  return results as CandidateResult[];
}

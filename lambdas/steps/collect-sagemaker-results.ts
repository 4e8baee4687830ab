/** Step handler: reads the candidate results the SageMaker trainer wrote. */
import type { CollectSageMakerResultsInput, CollectSageMakerResultsOutput } from './contracts';
import { collectSageMakerResults } from './impl';

export async function handler(input: CollectSageMakerResultsInput): Promise<CollectSageMakerResultsOutput> {
  return collectSageMakerResults(input);
}

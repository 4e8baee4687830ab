/** Step handler: ranks the succeeded candidates by the selection metric. */
import type { SelectBestInput, SelectBestOutput } from './contracts';
import { selectBest } from './impl/select-best';
import { step } from './impl/step-errors';

// Pure ranking of its input: no S3, no MLflow, so no step context is built.
export async function handler(input: SelectBestInput): Promise<SelectBestOutput> {
  return step(async () => selectBest(input));
}

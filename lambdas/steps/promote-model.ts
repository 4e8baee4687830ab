/** Step handler: sets Challenger, or Production when the new version beats it on the same holdout. */
import type { PromoteModelInput, PromoteModelOutput } from './contracts';
import { promoteModel } from './impl';

export async function handler(input: PromoteModelInput): Promise<PromoteModelOutput> {
  return promoteModel(input);
}

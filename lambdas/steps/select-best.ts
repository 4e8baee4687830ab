/** Step handler: ranks the succeeded candidates by the selection metric. */
import type { SelectBestInput, SelectBestOutput } from './contracts';
import { selectBest } from './impl';

export async function handler(input: SelectBestInput): Promise<SelectBestOutput> {
  return selectBest(input);
}

/** Step handler: splits the valid rows into train, test and reference sets. */
import type { SplitDatasetInput, SplitDatasetOutput } from './contracts';
import { splitDataset } from './impl';

export async function handler(input: SplitDatasetInput): Promise<SplitDatasetOutput> {
  return splitDataset(input);
}

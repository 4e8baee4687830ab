/** Step handler: writes the curated dataset version (content digest) and its manifest. */
import type { PublishDatasetInput, PublishDatasetOutput } from './contracts';
import { publishDataset } from './impl';

export async function handler(input: PublishDatasetInput): Promise<PublishDatasetOutput> {
  return publishDataset(input);
}

/** Step handler: reads the landing prefix (or a bundled dataset) into one normalised CSV. */
import type { IngestDataInput, IngestDataOutput } from './contracts';
import { ingestData } from './impl';

export async function handler(input: IngestDataInput): Promise<IngestDataOutput> {
  return ingestData(input);
}

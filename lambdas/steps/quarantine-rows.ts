/** Step handler: writes the rejected rows, with their reasons, to the quarantine bucket. */
import type { QuarantineRowsInput, QuarantineRowsOutput } from './contracts';
import { quarantineRows } from './impl';

export async function handler(input: QuarantineRowsInput): Promise<QuarantineRowsOutput> {
  return quarantineRows(input);
}

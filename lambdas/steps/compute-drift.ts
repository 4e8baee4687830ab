/** Step handler: measures drift of the newest data and predictions against the reference set. */
import type { ComputeDriftInput, ComputeDriftOutput } from './contracts';
import { computeDrift } from './impl';

export async function handler(input: ComputeDriftInput): Promise<ComputeDriftOutput> {
  return computeDrift(input);
}

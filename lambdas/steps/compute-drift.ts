/**
 * Step handler: measures drift of the newest data and predictions against the reference set, and
 * emits the headline value as the `DriftScore` metric (EMF) that the dashboard and the drift alarm
 * read. The emitter is wired here, not in the step, so local runs print no EMF.
 */
import { PowertoolsDriftMetrics } from '../core/monitoring';
import type { ComputeDriftInput, ComputeDriftOutput } from './contracts';
import { computeDrift } from './impl';

const metrics = new PowertoolsDriftMetrics();

export async function handler(input: ComputeDriftInput): Promise<ComputeDriftOutput> {
  return computeDrift(input, undefined, { metrics });
}

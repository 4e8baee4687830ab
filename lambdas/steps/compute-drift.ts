/**
 * Step handler: measures drift of the newest data and predictions against the reference set, and
 * emits the headline value as the `DriftScore` metric (EMF) that the dashboard and the drift alarm
 * read. The emitter is wired here, not in the step, so local runs print no EMF.
 */
import { PowertoolsDriftMetrics } from '../core/monitoring';
import type { ComputeDriftInput } from './contracts';
import { computeDrift } from './impl/compute-drift';
import { stepHandler } from './impl/step-handler';

const metrics = new PowertoolsDriftMetrics();

export const handler = stepHandler((input: ComputeDriftInput, context) =>
  computeDrift(input, context, { metrics }),
);

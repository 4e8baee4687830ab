/**
 * Step handler: measures drift of the newest data and predictions against the reference set, and
 * emits the headline value as the `DriftScore` metric (EMF) that the dashboard and the drift alarm
 * read. The emitter is wired here, not in the step, so local runs print no EMF.
 */
import { PowertoolsDriftMetrics } from '../../core/monitoring';
import { stepHandler } from '../support/step-handler';
import { computeDrift } from '../tasks/compute-drift';

const metrics = new PowertoolsDriftMetrics();

export const handler = stepHandler<'compute-drift'>((input, context) =>
  computeDrift(input, context, { metrics }),
);

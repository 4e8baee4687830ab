/** Step handler: ranks the succeeded candidates by the selection metric. */
import { step } from '../support/step-errors';
import type { StepLambda } from '../support/step-handler';
import { selectBest } from '../tasks/select-best';

// Pure ranking of its input: no S3, no MLflow, so no step context is built (nor bundled).
export const handler: StepLambda<'select-best'> = (input) => step(async () => selectBest(input));

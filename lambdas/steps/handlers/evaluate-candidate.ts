/** Step handler: scores one trained candidate on the holdout. */
import { stepHandler } from '../support/step-handler';
import { evaluateCandidate } from '../tasks/evaluate-candidate';

export const handler = stepHandler<'evaluate-candidate'>(evaluateCandidate);

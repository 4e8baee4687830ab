/** Step handler: scores one trained candidate on the holdout. */
import { evaluateCandidate } from './impl/evaluate-candidate';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(evaluateCandidate);

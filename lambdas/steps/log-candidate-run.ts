/** Step handler: logs a candidate's params, metrics and model to MLflow. */
import { logCandidateRun } from './impl/log-candidate-run';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(logCandidateRun);

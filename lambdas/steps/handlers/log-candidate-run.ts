/** Step handler: logs a candidate's params, metrics and model to MLflow. */
import { stepHandler } from '../support/step-handler';
import { logCandidateRun } from '../tasks/log-candidate-run';

export const handler = stepHandler<'log-candidate-run'>(logCandidateRun);

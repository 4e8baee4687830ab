/** Step handler: logs a candidate's params, metrics and model to MLflow. */
import type { LogCandidateRunInput, LogCandidateRunOutput } from './contracts';
import { logCandidateRun } from './impl';

export async function handler(input: LogCandidateRunInput): Promise<LogCandidateRunOutput> {
  return logCandidateRun(input);
}

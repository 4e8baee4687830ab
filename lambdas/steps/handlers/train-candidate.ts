/** Step handler: trains one candidate and exports it as an MLflow onnx-flavor model directory. */
import { stepHandler } from '../support/step-handler';
import { trainCandidate } from '../tasks/train-candidate';

export const handler = stepHandler<'train-candidate'>(trainCandidate);

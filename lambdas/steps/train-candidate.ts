/** Step handler: trains one candidate and exports it as an MLflow onnx-flavor model directory. */

import { stepHandler } from './impl/step-handler';
import { trainCandidate } from './impl/train-candidate';

export const handler = stepHandler(trainCandidate);

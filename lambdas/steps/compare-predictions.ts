/** Step handler: compares Production and Challenger predictions; logs the comparison to MLflow. */
import { comparePredictions } from './impl/compare-predictions';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(comparePredictions);

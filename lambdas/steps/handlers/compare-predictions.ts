/** Step handler: compares Production and Challenger predictions; logs the comparison to MLflow. */
import { stepHandler } from '../support/step-handler';
import { comparePredictions } from '../tasks/compare-predictions';

export const handler = stepHandler<'compare-predictions'>(comparePredictions);

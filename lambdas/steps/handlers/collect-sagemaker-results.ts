/** Step handler: reads the candidate results the SageMaker trainer wrote. */
import { stepHandler } from '../support/step-handler';
import { collectSageMakerResults } from '../tasks/collect-sagemaker-results';

export const handler = stepHandler<'collect-sagemaker-results'>(collectSageMakerResults);

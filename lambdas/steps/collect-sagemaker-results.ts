/** Step handler: reads the candidate results the SageMaker trainer wrote. */
import { collectSageMakerResults } from './impl/collect-sagemaker-results';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(collectSageMakerResults);

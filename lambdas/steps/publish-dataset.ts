/** Step handler: writes the curated dataset version (content digest) and its manifest. */
import { publishDataset } from './impl/publish-dataset';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(publishDataset);

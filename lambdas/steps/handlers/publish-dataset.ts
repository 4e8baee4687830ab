/** Step handler: writes the curated dataset version (content digest) and its manifest. */
import { stepHandler } from '../support/step-handler';
import { publishDataset } from '../tasks/publish-dataset';

export const handler = stepHandler<'publish-dataset'>(publishDataset);

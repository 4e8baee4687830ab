/** Step handler: splits the valid rows into train, test and reference sets. */
import { stepHandler } from '../support/step-handler';
import { splitDataset } from '../tasks/split-dataset';

export const handler = stepHandler<'split-dataset'>(splitDataset);

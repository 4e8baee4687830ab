/** Step handler: splits the valid rows into train, test and reference sets. */
import { splitDataset } from './impl/split-dataset';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(splitDataset);

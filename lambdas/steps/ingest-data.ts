/** Step handler: reads the landing prefix (or a bundled dataset) into one normalised CSV. */
import { ingestData } from './impl/ingest-data';
import { stepHandler } from './impl/step-handler';

export const handler = stepHandler(ingestData);

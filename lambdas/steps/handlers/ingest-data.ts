/** Step handler: reads the landing prefix (or a bundled dataset) into one normalised CSV. */
import { stepHandler } from '../support/step-handler';
import { ingestData } from '../tasks/ingest-data';

export const handler = stepHandler<'ingest-data'>(ingestData);

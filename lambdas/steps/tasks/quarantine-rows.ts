/**
 * Quarantine: the rejected rows, with their reasons, to the quarantine bucket where people (and
 * a replay after a fix) find them, and the count per reason for the run's output.
 */
import { countReasons, type QuarantinedRow } from '../../core/data';
import type { QuarantineRowsInput, QuarantineRowsOutput } from '../step-io';
import { getBytes, putBytes } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';

export async function quarantineRows(
  input: QuarantineRowsInput,
  context: StepContext,
): Promise<QuarantineRowsOutput> {
  const bytes = await getBytes(context.s3, input.rejected);
  const rows = parseQuarantine(new TextDecoder().decode(bytes), input.rejected.key);
  const quarantined = {
    bucket: context.config.buckets.quarantine,
    key: `quarantine/${input.dataset}/${input.runId}/rows.jsonl`,
  };
  await putBytes(context.s3, quarantined, bytes, 'application/x-ndjson');
  return { quarantined, rows: rows.length, reasons: countReasons(rows) as Record<string, number> };
}

function parseQuarantine(text: string, source: string): QuarantinedRow[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const row = JSON.parse(line) as Partial<QuarantinedRow>;
      if (typeof row.row !== 'number' || !Array.isArray(row.reasons)) {
        throw new StepInputError(
          `${source} line ${i + 1}`,
          'is not a quarantined row {row, reasons, record}',
        );
      }
      return row as QuarantinedRow;
    });
}

/**
 * Validate: every raw row against the data contract. Valid rows go on as Parquet (typed, in
 * contract order); rejected rows as JSON Lines with their reasons and original values.
 */
import { contractVersion, encodeFrame, loadAndValidate, quarantineToJsonLines } from '../../core/data';
import type { ValidateDataInput, ValidateDataOutput } from '../step-io';
import { getBytes, putBytes } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { readWorkContract, workObject, writeWorkJson } from '../support/work-area';

/** What validate-data counted, for the manifest publish-dataset writes. */
export interface ValidationCounts {
  readonly input: number;
  readonly valid: number;
  readonly rejected: number;
}

export async function validateData(
  input: ValidateDataInput,
  context: StepContext,
): Promise<ValidateDataOutput> {
  const contract = await readWorkContract(context, input.runId);
  const bytes = await getBytes(context.s3, input.raw);
  const { frame, quarantined, counts } = await loadAndValidate({ bytes, name: input.raw.key }, contract);
  const valid = workObject(context, input.runId, 'valid.parquet');
  const rejected = quarantined.length > 0 ? workObject(context, input.runId, 'rejected.jsonl') : null;
  const validation: ValidationCounts = {
    input: counts.input,
    valid: counts.valid,
    rejected: counts.quarantined,
  };
  await Promise.all([
    putBytes(context.s3, valid, encodeFrame(frame, 'parquet', { contract })),
    rejected ? putBytes(context.s3, rejected, quarantineToJsonLines(quarantined)) : undefined,
    writeWorkJson(context, input.runId, 'validation.json', validation),
  ]);
  return {
    valid,
    rejected,
    validRows: counts.valid,
    rejectedRows: counts.quarantined,
    contract: { name: input.dataset, version: contractVersion(contract) },
  };
}

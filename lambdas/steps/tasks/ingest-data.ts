/**
 * Ingest: the rows of a landing prefix (or a bundled dataset) as one object under `work/<runId>/`,
 * and the data contract they will be checked against beside it.
 *
 * Several CSV objects under a prefix (daily parts) are joined into one CSV; they must share the
 * header. Any other format is taken as one object. The contract is `input_schema.json` under the
 * prefix when the producer ships one, else the bundled dataset's of the same name.
 *
 * The output carries the batch's own order (its prefix and the newest LastModified under it), by
 * which publish-dataset decides whether `latest.json` moves (support/batch-order.ts).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  CONTRACT_FILE,
  type DataContract,
  dataFormatOf,
  loadAndValidate,
  parseContract,
  resolveDataset,
} from '../../core/data';
import type { IngestDataInput, IngestDataOutput } from '../step-io';
import type { BatchOrder } from '../support/batch-order';
import { newestLastModified } from '../support/landing-batches';
import { getBytes, getJson, listKeys, objectExists, putBytes } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';
import { newRunId, workObject, writeWorkJson } from '../support/work-area';

interface SourceRows {
  readonly batch: BatchOrder | null;
  readonly bytes: Uint8Array;
  /** The file name the format is read from (`raw.csv`, `raw.parquet`, …). */
  readonly fileName: string;
  readonly contract: DataContract;
  readonly source: string;
}

export async function ingestData(input: IngestDataInput, context: StepContext): Promise<IngestDataOutput> {
  if (typeof input.dataset !== 'string' || input.dataset.trim() === '') {
    throw new StepInputError('dataset', 'is required: the dataset name, e.g. iris');
  }
  const rows =
    input.source?.type === 'bundled' ? await bundledRows(input.source.name) : await s3Rows(input, context);
  const runId = newRunId('d');
  const raw = workObject(context, runId, rows.fileName);
  await Promise.all([
    putBytes(context.s3, raw, rows.bytes),
    writeWorkJson(context, runId, 'contract.json', rows.contract),
  ]);
  // Counted as the validator reads records (so the counts of later steps add up to this one).
  const { counts } = await loadAndValidate({ bytes: rows.bytes, name: rows.fileName }, rows.contract);
  return { runId, raw, rowCount: counts.input, source: rows.source, batch: rows.batch };
}

async function bundledRows(name: string): Promise<SourceRows> {
  const dataset = await resolveDataset(`bundled:${name}`);
  if (!dataset.contract) throw new StepInputError('source.name', `bundled dataset ${name} has no contract`);
  const path =
    typeof dataset.input === 'string' ? dataset.input : 'path' in dataset.input ? dataset.input.path : '';
  return {
    batch: null,
    bytes: new Uint8Array(await readFile(path)),
    fileName: `raw.${dataset.format}`,
    contract: dataset.contract,
    source: dataset.source,
  };
}

async function s3Rows(input: IngestDataInput, context: StepContext): Promise<SourceRows> {
  const source = input.source;
  if (source?.type !== 's3' || typeof source.prefix !== 'string' || source.prefix === '') {
    throw new StepInputError(
      'source',
      `must be {type: "s3", prefix} or {type: "bundled", name}, got ${JSON.stringify(source)}`,
    );
  }
  const bucket = source.bucket ?? context.config.buckets.landing;
  const prefix = source.prefix.endsWith('/') ? source.prefix : `${source.prefix}/`;
  const keys = (await listKeys(context.s3, bucket, prefix)).filter((key) => basename(key) !== CONTRACT_FILE);
  if (keys.length === 0)
    throw new StepInputError('source.prefix', `no objects under s3://${bucket}/${prefix}`);
  const formats = keys.map((key) => dataFormatOf(key));
  const contract = await contractFor(input.dataset, bucket, prefix, context);
  const where = `s3://${bucket}/${prefix}`;
  const batch: BatchOrder = { prefix: where, landedAt: await newestLastModified(context.s3, bucket, prefix) };
  if (keys.length === 1) {
    const key = keys[0] as string;
    return {
      batch,
      bytes: await getBytes(context.s3, { bucket, key }),
      fileName: `raw.${formats[0]}`,
      contract,
      source: where,
    };
  }
  const notCsv = keys.find((_key, i) => formats[i] !== 'csv');
  if (notCsv) {
    throw new StepInputError(
      'source.prefix',
      `${where} holds ${keys.length} objects; only CSV parts are joined, ${notCsv} is not CSV`,
    );
  }
  const texts = await Promise.all(
    keys.map(async (key) => new TextDecoder().decode(await getBytes(context.s3, { bucket, key }))),
  );
  return {
    batch,
    bytes: Buffer.from(joinCsvParts(keys, texts)),
    fileName: 'raw.csv',
    contract,
    source: where,
  };
}

/** CSV parts as one CSV: the first header, then every part's records; a part with another header fails. */
export function joinCsvParts(keys: readonly string[], texts: readonly string[]): string {
  const headerOf = (text: string) => text.split(/\r?\n/, 1)[0] ?? '';
  const header = headerOf(texts[0] ?? '');
  let joined = `${header}\n`;
  texts.forEach((text, i) => {
    if (headerOf(text) !== header) {
      throw new StepInputError(
        'source.prefix',
        `${keys[i]} has header "${headerOf(text)}", not "${header}" like ${keys[0]}`,
      );
    }
    const body = text.slice(text.indexOf('\n') + 1);
    if (text.includes('\n') && body.trim() !== '') joined += body.endsWith('\n') ? body : `${body}\n`;
  });
  return joined;
}

async function contractFor(
  dataset: string,
  bucket: string,
  prefix: string,
  context: StepContext,
): Promise<DataContract> {
  const shipped = { bucket, key: `${prefix}${CONTRACT_FILE}` };
  if (await objectExists(context.s3, shipped)) {
    return parseContract(await getJson(context.s3, shipped), `s3://${bucket}/${shipped.key}`);
  }
  try {
    const bundled = await resolveDataset(`bundled:${dataset}`);
    if (bundled.contract) return bundled.contract;
  } catch {
    // Not a bundled dataset: fall through to the error naming both places a contract may be.
  }
  throw new StepInputError(
    'dataset',
    `no data contract for ${dataset}: put ${CONTRACT_FILE} under s3://${bucket}/${prefix} or use a bundled dataset name`,
  );
}

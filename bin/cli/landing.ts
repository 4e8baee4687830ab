/**
 * Landing a data file where the data pipeline looks: `landing/<dataset>/<batch>/<file>` in the
 * landing bucket, with the batch's contract beside it as `input_schema.json` (what
 * lambdas/steps/tasks/ingest-data.ts reads). `mlops land` and `mlops run data --file` both use it.
 *
 * Everything is checked before anything is written: the extension, that the file reads, that the
 * contract parses, and that the file loads under the contract with at least one valid row.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CONTRACT_FILE,
  type DataContract,
  DataError,
  type DataFormat,
  dataFormatOf,
  loadAndValidate,
  parseContractJson,
  resolveDataset,
} from '../../lambdas/core/data';
import { CliError } from './output';

export interface PreparedLanding {
  readonly file: string;
  readonly format: DataFormat;
  readonly bytes: Uint8Array;
  /** The contract to upload beside the data; absent when the bundled dataset's is used. */
  readonly contractText?: string;
  /** Where the contract came from: the file, or `bundled:<name>`. */
  readonly contractSource: string;
  readonly contract: DataContract;
  readonly rows: { readonly input: number; readonly valid: number; readonly quarantined: number };
  /** The first reason a row was rejected, for the summary. */
  readonly firstRejection?: string;
}

export interface Landed {
  readonly bucket: string;
  /** The batch prefix, ending in `/`: what `mlops run data --landing-key` takes. */
  readonly prefix: string;
  readonly key: string;
  readonly contractKey?: string;
}

/** A batch name for now: UTC date and time, so batches sort newest last (`2026-12-03T161502Z`). */
export function batchName(now: Date = new Date()): string {
  return `${now.toISOString().slice(0, 19).replaceAll(':', '')}Z`;
}

/** The batch prefix and the data file's key of a landing. */
export function landingKeys(dataset: string, batch: string, file: string): { prefix: string; key: string } {
  const prefix = `landing/${dataset}/${batch}/`;
  return { prefix, key: `${prefix}${basename(file)}` };
}

/**
 * Reads and checks the file and its contract: `contractFile` when given, else `input_schema.json`
 * beside the file, else the bundled dataset of the same name. Throws a CliError (exit 2) naming
 * the file or the contract field at fault.
 */
export async function prepareLanding(
  file: string,
  dataset: string,
  contractFile?: string,
): Promise<PreparedLanding> {
  let format: DataFormat;
  try {
    format = dataFormatOf(file);
  } catch (error) {
    throw new CliError(`<file>: ${(error as Error).message}`, 2);
  }
  if (basename(file) === CONTRACT_FILE) {
    throw new CliError(`<file>: ${file} is a data contract, not data: pass it with --contract`, 2);
  }
  const bytes = await readBytes('<file>', file);
  const contract = await findContract(file, dataset, contractFile);
  let result: Awaited<ReturnType<typeof loadAndValidate>>;
  try {
    result = await loadAndValidate({ bytes, name: file, format }, contract.contract);
  } catch (error) {
    if (error instanceof DataError) {
      throw new CliError(`${file} does not fit the contract ${contract.source}: ${error.message}`, 2);
    }
    throw error;
  }
  const firstRejection = result.quarantined[0]?.reasons[0]?.message;
  if (result.counts.valid === 0) {
    throw new CliError(
      `${file}: none of its ${result.counts.input} rows fits the contract ${contract.source}${firstRejection ? ` (first: ${firstRejection})` : ''}`,
      2,
    );
  }
  return {
    file,
    format,
    bytes,
    ...(contract.text !== undefined && { contractText: contract.text }),
    contractSource: contract.source,
    contract: contract.contract,
    rows: result.counts,
    ...(firstRejection !== undefined && { firstRejection }),
  };
}

/** Writes the contract first, then the data: a pipeline that sees the data finds its contract. */
export async function putLanding(
  s3: S3Client,
  bucket: string,
  prefix: string,
  prepared: PreparedLanding,
): Promise<Landed> {
  const key = `${prefix}${basename(prepared.file)}`;
  let contractKey: string | undefined;
  if (prepared.contractText !== undefined) {
    contractKey = `${prefix}${CONTRACT_FILE}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: contractKey,
        Body: prepared.contractText,
        ContentType: 'application/json',
      }),
    );
  }
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: prepared.bytes }));
  return { bucket, prefix, key, ...(contractKey !== undefined && { contractKey }) };
}

async function findContract(
  file: string,
  dataset: string,
  contractFile: string | undefined,
): Promise<{ contract: DataContract; text?: string; source: string }> {
  if (contractFile !== undefined) return contractFrom('--contract', contractFile);
  const beside = join(dirname(file), CONTRACT_FILE);
  if (await isFile(beside)) return contractFrom(`${CONTRACT_FILE} beside the file`, beside);
  try {
    const bundled = await resolveDataset(`bundled:${dataset}`);
    if (bundled.contract) return { contract: bundled.contract, source: `bundled:${dataset}` };
  } catch {
    // Not a bundled dataset: the error below says how to give a contract.
  }
  throw new CliError(
    `no data contract for ${dataset}: pass --contract <file>, or put ${CONTRACT_FILE} beside ${file} (draft one with: mlops contract infer ${file} --target <column> -o ${CONTRACT_FILE})`,
    2,
  );
}

async function contractFrom(
  what: string,
  path: string,
): Promise<{ contract: DataContract; text: string; source: string }> {
  const text = new TextDecoder().decode(await readBytes(what, path));
  try {
    return { contract: parseContractJson(text, path), text, source: path };
  } catch (error) {
    if (error instanceof DataError) throw new CliError(`${what}: ${error.message}`, 2);
    throw error;
  }
}

async function readBytes(what: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'a directory, not a file'
          : (error as Error).message;
    throw new CliError(`${what}: cannot read ${path}: ${reason}`, 2);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

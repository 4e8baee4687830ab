/**
 * Where a monitoring run's data comes from: a file path, bytes already in memory, or an S3 object.
 * Each is read to bytes once, here, so a failure names the input (its role and where it is) and
 * the loaders parse without touching the network again.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type DataFormat, type DataInput, dataFormatOf } from '../data';
import {
  asInputError,
  MonitoringInputError,
  type MonitoringInputRole,
  MonitoringRequestError,
} from './monitoring-errors';

/** One S3 object holding CSV, JSON, JSON Lines or Parquet (the format from the key's extension). */
export interface S3DataInput {
  readonly bucket: string;
  readonly key: string;
  readonly format?: DataFormat;
}

export type MonitoringDataInput = DataInput | S3DataInput;

export interface InputBytes {
  readonly bytes: Uint8Array;
  readonly format: DataFormat;
  /** The path, `s3://bucket/key` or the bytes' name, for messages and the run's params. */
  readonly source: string;
}

export function isS3Input(input: MonitoringDataInput): input is S3DataInput {
  return typeof input !== 'string' && 'bucket' in input && 'key' in input;
}

/** The path, `s3://bucket/key` or name an input is known by. */
export function describeInput(input: MonitoringDataInput): string {
  if (typeof input === 'string') return input;
  if (isS3Input(input)) return `s3://${input.bucket}/${input.key}`;
  if ('path' in input) return input.path;
  return input.name ?? `${input.format ?? 'data'} bytes`;
}

/**
 * An input from a URI as the registry or a pipeline hands it over: `s3://bucket/key`,
 * `file:///abs/path`, or a plain path.
 */
export function dataInputFromUri(uri: string): MonitoringDataInput {
  const s3 = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri.trim());
  if (s3?.[1] && s3[2]) return { bucket: s3[1], key: s3[2] };
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  return uri;
}

function formatOf(name: string, given: DataFormat | undefined, role: MonitoringInputRole): DataFormat {
  if (given) return given;
  try {
    return dataFormatOf(name);
  } catch (error) {
    throw asInputError(error, role, name);
  }
}

/** Reads an input's bytes; an unreadable one is a `MonitoringInputError` naming it. */
export async function readMonitoringInput(
  input: MonitoringDataInput,
  role: MonitoringInputRole,
  s3?: S3Client,
): Promise<InputBytes> {
  if (isS3Input(input)) {
    const source = describeInput(input);
    const format = formatOf(input.key, input.format, role);
    if (!s3) {
      throw new MonitoringRequestError(role, `reading ${source} needs an S3 client (deps.s3)`);
    }
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key }));
      return { bytes: (await object.Body?.transformToByteArray()) ?? new Uint8Array(), format, source };
    } catch (error) {
      const name = (error as { name?: string }).name;
      const reason =
        name === 'NoSuchKey'
          ? 'no such object'
          : name === 'NoSuchBucket'
            ? `no such bucket ${input.bucket}`
            : `${name ?? 'Error'}: ${(error as Error).message}`;
      throw new MonitoringInputError(role, source, reason, { cause: error });
    }
  }
  if (typeof input === 'string' || 'path' in input) {
    const path = typeof input === 'string' ? input : input.path;
    const format = formatOf(path, typeof input === 'string' ? undefined : input.format, role);
    try {
      return { bytes: new Uint8Array(await readFile(path)), format, source: path };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : (error as Error).message;
      throw new MonitoringInputError(role, path, reason, { cause: error });
    }
  }
  const source = describeInput(input);
  if (!input.format && !input.name) {
    throw new MonitoringRequestError(role, 'data given as bytes needs a format or a file name');
  }
  const format = formatOf(source, input.format, role);
  const bytes = input.bytes instanceof Uint8Array ? input.bytes : new Uint8Array(input.bytes);
  return { bytes, format, source };
}

/**
 * An S3 client from the environment: `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` point it at a
 * local stand-in, which needs path-style addressing (no bucket sub-domains on 127.0.0.1); static
 * credentials when both keys are set, else the SDK's default chain.
 */
export function s3ClientFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim();
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  });
}

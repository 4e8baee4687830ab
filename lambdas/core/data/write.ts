/**
 * Writing frames: curated data and predictions, as CSV, JSON, JSON Lines or Parquet bytes (for
 * an S3 PutObject) or to a file by its extension.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FrameWriteOptions } from './column-types';
import { frameToCsv } from './csv-format';
import { DataError } from './errors';
import type { Frame } from './frame';
import { frameToJson, frameToJsonLines } from './json-format';
import { type DataFormat, dataFormatOf } from './load';
import { frameToParquet } from './parquet-format';
import { type QuarantinedRow, quarantineToJsonLines } from './quarantine';

export function encodeFrame(frame: Frame, format: DataFormat, options: FrameWriteOptions = {}): Uint8Array {
  switch (format) {
    case 'csv':
      return Buffer.from(frameToCsv(frame, options));
    case 'json':
      return Buffer.from(frameToJson(frame, options));
    case 'jsonl':
      return Buffer.from(frameToJsonLines(frame, options));
    case 'parquet':
      return frameToParquet(frame, options);
    default:
      throw new DataError('UNSUPPORTED_FORMAT', `cannot write format "${String(format)}"`, {
        field: 'format',
      });
  }
}

/** Writes the frame to `path` (directories created) in the format of its extension or `options.format`. */
export async function writeFrameFile(
  path: string,
  frame: Frame,
  options: FrameWriteOptions & { readonly format?: DataFormat } = {},
): Promise<void> {
  const bytes = encodeFrame(frame, options.format ?? dataFormatOf(path), options);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/** Writes the quarantine file (JSON Lines, see `quarantineToJsonLines`) to `path`, directories created. */
export async function writeQuarantineFile(path: string, rows: readonly QuarantinedRow[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, quarantineToJsonLines(rows));
}

/**
 * Dataset versions: the sha256 of a canonical serialization of the frame, so a version names
 * the data, not the file. The same rows read from CSV, JSON Lines or Parquet get the same
 * version; reordering rows or columns, or changing one value, gives another.
 *
 * The serialization (version 1), fed to the hash in pieces, never built whole:
 *
 *   "mlops-frame-v1\n" <rowCount> "\n"
 *   per column, in frame order:
 *     "column " <JSON of the name> " numeric\n"      then rowCount float64, little-endian,
 *                                                     every NaN as 0x7FF8000000000000, -0 as +0
 *     "column " <JSON of the name> " categorical\n"  then per row: uint32 LE 0xFFFFFFFF when
 *                                                     missing, else uint32 LE byte length + UTF-8
 *
 * Categories are hashed by value, not by code, so the level order and unused levels do not
 * matter. The contract types beyond numeric/categorical (integer, datetime, …) are not part of
 * the digest: the contract has its own version (`contractVersion`).
 */
import { createHash, type Hash } from 'node:crypto';
import { endianness } from 'node:os';
import type { Frame } from './frame';

const CHUNK_ROWS = 8192;
const LITTLE_ENDIAN = endianness() === 'LE';

/** The hex sha256 of the frame's canonical serialization. */
export function frameDigest(frame: Frame): string {
  const hash = createHash('sha256');
  hash.update(`mlops-frame-v1\n${frame.rowCount}\n`);
  for (const [name, column] of frame.columns) {
    hash.update(`column ${JSON.stringify(name)} ${column.kind}\n`);
    if (column.kind === 'numeric') hashNumbers(hash, column.values, frame.rowCount);
    else hashCategories(hash, column.codes, column.levels, frame.rowCount);
  }
  return hash.digest('hex');
}

/** A dataset version: `sha256-` and the first 16 hex digits of `frameDigest`. */
export function datasetVersion(frame: Frame): string {
  return `sha256-${frameDigest(frame).slice(0, 16)}`;
}

function hashNumbers(hash: Hash, values: Float64Array, rowCount: number): void {
  const chunk = new Float64Array(Math.min(CHUNK_ROWS, rowCount));
  const bytes = new Uint8Array(chunk.buffer);
  const view = new DataView(chunk.buffer);
  for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
    const end = Math.min(start + CHUNK_ROWS, rowCount);
    for (let i = start; i < end; i++) {
      const value = values[i] as number;
      // One bit pattern per NaN and zero, so how a file spelled them does not change the digest.
      const canonical = Number.isNaN(value) ? Number.NaN : value === 0 ? 0 : value;
      if (LITTLE_ENDIAN) chunk[i - start] = canonical;
      else view.setFloat64((i - start) * 8, canonical, true);
    }
    hash.update(bytes.subarray(0, (end - start) * 8));
  }
}

function hashCategories(hash: Hash, codes: Int32Array, levels: readonly string[], rowCount: number): void {
  const encoded = levels.map((level) => {
    const text = Buffer.from(level, 'utf8');
    const framed = Buffer.alloc(4 + text.length);
    framed.writeUInt32LE(text.length, 0);
    text.copy(framed, 4);
    return framed;
  });
  const missing = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const pending: Buffer[] = [];
  for (let i = 0; i < rowCount; i++) {
    const code = codes[i] as number;
    pending.push(code < 0 ? missing : (encoded[code] ?? missing));
    if (pending.length === CHUNK_ROWS) hash.update(Buffer.concat(pending.splice(0)));
  }
  if (pending.length > 0) hash.update(Buffer.concat(pending));
}

/**
 * Parquet: reading column chunks with hyparquet and writing a frame with hyparquet-writer.
 *
 * Reading asks hyparquet for column chunks (`onChunk`) and never for rows, so it skips the
 * column-to-row transpose and no per-row objects are made (the validator converts the chunks
 * straight into typed arrays).
 */
import type { AsyncBuffer, SchemaElement } from 'hyparquet';
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import type { ColumnSource } from 'hyparquet-writer';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type FrameWriteOptions, frameColumnTypes } from './column-types';
import type { ColumnType } from './contract';
import { DataError } from './errors';
import type { Frame } from './frame';
import type { ColumnChunk } from './validation';

export interface ParquetColumns {
  readonly header: string[];
  /** Each column's type as the Parquet schema declares it (used when there is no contract). */
  readonly types: ColumnType[];
  /** Per header column, its decoded chunks in row order. */
  readonly chunks: ColumnChunk[][];
  readonly rowCount: number;
}

export async function readParquetColumns(bytes: Uint8Array, source: string): Promise<ParquetColumns> {
  const file = asyncBufferOf(bytes);
  let header: string[];
  let types: ColumnType[];
  let rowCount: number;
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(bytes);
    const children = parquetSchema(metadata).children;
    header = children.map((child) => child.element.name);
    types = children.map((child) =>
      child.children.length > 0 ? 'category' : parquetColumnType(child.element),
    );
    rowCount = Number(metadata.num_rows);
  } catch (error) {
    throw new DataError(
      'MALFORMED_FILE',
      `${source}: not a readable Parquet file: ${(error as Error).message}`,
      {
        source,
      },
    );
  }
  const position = new Map(header.map((name, i) => [name, i]));
  const chunks: ColumnChunk[][] = header.map(() => []);
  try {
    await parquetRead({
      file,
      metadata,
      onChunk: ({ columnName, columnData, rowStart }) => {
        const index = position.get(columnName);
        if (index !== undefined) chunks[index]?.push({ rowStart, data: columnData });
      },
    });
  } catch (error) {
    throw new DataError(
      'MALFORMED_FILE',
      `${source}: cannot decode Parquet data: ${(error as Error).message}`,
      {
        source,
      },
    );
  }
  for (const list of chunks) list.sort((a, b) => a.rowStart - b.rowStart);
  return { header, types, chunks, rowCount };
}

/** A view on bytes that may be a slice of a bigger buffer (Node pools small Buffers). */
function asyncBufferOf(bytes: Uint8Array): AsyncBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer) return buffer;
  return {
    byteLength,
    slice: (start, end = byteLength) => bytes.slice(start, end).buffer as ArrayBuffer,
  };
}

function parquetColumnType(element: SchemaElement): ColumnType {
  const converted = element.converted_type;
  const logical = element.logical_type?.type;
  if (element.type === 'BOOLEAN') return 'boolean';
  if (
    element.type === 'INT96' ||
    converted === 'DATE' ||
    converted === 'TIMESTAMP_MILLIS' ||
    converted === 'TIMESTAMP_MICROS' ||
    logical === 'DATE' ||
    logical === 'TIMESTAMP'
  ) {
    return 'datetime';
  }
  const numeric =
    element.type === 'INT32' ||
    element.type === 'INT64' ||
    element.type === 'FLOAT' ||
    element.type === 'DOUBLE';
  return numeric ? 'number' : 'category';
}

/**
 * The frame as a Parquet file. Every column is optional (nullable) so the schema does not depend
 * on whether this batch happens to have a missing value. With a contract, integer columns are
 * INT64, boolean BOOLEAN and datetime TIMESTAMP (ms), which pandas reads as int64, bool and
 * datetime64; other numeric columns are DOUBLE and categories STRING.
 */
export function frameToParquet(frame: Frame, options: FrameWriteOptions = {}): Uint8Array {
  const types = frameColumnTypes(frame, options.contract);
  const columnData: ColumnSource[] = [...frame.columns].map(([name, column], j) => {
    if (column.kind === 'categorical') {
      const data = Array.from(column.codes, (code) => (code < 0 ? null : (column.levels[code] ?? null)));
      return { name, data, type: 'STRING', nullable: true };
    }
    const values = column.values;
    switch (types[j]) {
      case 'integer':
        return { name, data: mapPresent(values, (v) => BigInt(v)), type: 'INT64', nullable: true };
      case 'boolean':
        return { name, data: mapPresent(values, (v) => v !== 0), type: 'BOOLEAN', nullable: true };
      case 'datetime':
        return { name, data: mapPresent(values, (v) => new Date(v)), type: 'TIMESTAMP', nullable: true };
      default:
        return {
          name,
          data: values.some(Number.isNaN) ? mapPresent(values, (v) => v) : values,
          type: 'DOUBLE',
          nullable: true,
        };
    }
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

function mapPresent<T>(values: Float64Array, convert: (value: number) => T): (T | null)[] {
  return Array.from(values, (value) => (Number.isNaN(value) ? null : convert(value)));
}

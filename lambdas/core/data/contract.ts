/**
 * The data contract (`input_schema.json`): which columns a dataset has, their types and allowed
 * values, the target and the task. It travels with the data (datasets/<name>/input_schema.json)
 * and with every model (`data_contract/input_schema.json` in the MLflow model directory).
 *
 * ```json
 * {
 *   "name": "iris",
 *   "task": "classification",
 *   "target": "species",
 *   "columns": [
 *     { "name": "sepal_length", "type": "number", "min": 0, "max": 50, "description": "cm" },
 *     { "name": "species", "type": "category", "values": ["setosa", "versicolor", "virginica"] }
 *   ]
 * }
 * ```
 *
 * Field names are snake_case as in the file (`time_column`), so the parsed object is the file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DataError, parseJsonText } from './errors';

export const COLUMN_TYPES = ['number', 'integer', 'category', 'boolean', 'datetime'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];
export type Task = 'classification' | 'regression';

const columnSchema = z.strictObject({
  name: z.string().min(1, 'a column name cannot be empty'),
  type: z.enum(COLUMN_TYPES),
  description: z.string().optional(),
  /** Missing values allowed. Off by default: a contract is strict unless it says otherwise. */
  nullable: z.boolean().optional(),
  /** Inclusive bounds, for number and integer columns. */
  min: z.number().optional(),
  max: z.number().optional(),
  /** The allowed values of a category column, in the order its codes (and class indices) take. */
  values: z.array(z.string().min(1, 'an allowed value cannot be empty')).min(1).optional(),
});

const contractSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    /** A version of the contract itself; `contractVersion` derives one when absent. */
    version: z.string().min(1).optional(),
    task: z.enum(['classification', 'regression']),
    target: z.string().min(1),
    /** The column a time-based split orders rows by. */
    time_column: z.string().min(1).optional(),
    columns: z.array(columnSchema).min(1, 'a contract needs at least one column'),
  })
  .superRefine((contract, ctx) => {
    const problem = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const seen = new Set<string>();
    contract.columns.forEach((column, i) => {
      const at = (field: string) => ['columns', i, field];
      if (seen.has(column.name)) {
        problem(at('name'), `duplicate column name "${column.name}"`);
      }
      seen.add(column.name);
      const numeric = column.type === 'number' || column.type === 'integer';
      for (const bound of ['min', 'max'] as const) {
        if (column[bound] !== undefined && !numeric) {
          problem(
            at(bound),
            `${bound} applies to number and integer columns, not to ${column.type} column "${column.name}"`,
          );
        }
      }
      if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
        problem(at('min'), `min ${column.min} is above max ${column.max} in column "${column.name}"`);
      }
      if (column.values !== undefined) {
        if (column.type !== 'category') {
          problem(
            at('values'),
            `values applies to category columns, not to ${column.type} column "${column.name}"`,
          );
        }
        const duplicate = column.values.find((value, j) => column.values?.indexOf(value) !== j);
        if (duplicate !== undefined) {
          problem(at('values'), `duplicate allowed value "${duplicate}"`);
        }
      }
    });

    const byName = new Map(contract.columns.map((column) => [column.name, column]));
    const target = byName.get(contract.target);
    if (!target) {
      problem(['target'], `target "${contract.target}" is not one of the columns`);
    } else if (contract.task === 'regression' && target.type !== 'number' && target.type !== 'integer') {
      problem(
        ['target'],
        `a regression target must be a number or integer column; "${target.name}" is ${target.type}`,
      );
    } else if (
      contract.task === 'classification' &&
      (target.type === 'number' || target.type === 'datetime')
    ) {
      problem(
        ['target'],
        `a classification target must be a category, integer or boolean column; "${target.name}" is ${target.type}`,
      );
    }
    if (contract.time_column !== undefined) {
      const time = byName.get(contract.time_column);
      if (!time) {
        problem(['time_column'], `time_column "${contract.time_column}" is not one of the columns`);
      } else if (time.type === 'category' || time.type === 'boolean') {
        problem(
          ['time_column'],
          `time_column must be a datetime, integer or number column; "${time.name}" is ${time.type}`,
        );
      } else if (time.name === contract.target) {
        problem(['time_column'], 'time_column cannot be the target');
      }
    }
    if (
      target &&
      contract.columns.every((c) => c.name === contract.target || c.name === contract.time_column)
    ) {
      problem(
        ['columns'],
        'a contract needs at least one feature column besides the target and the time column',
      );
    }
  });

export type DataContract = z.infer<typeof contractSchema>;
export type ContractColumn = DataContract['columns'][number];

/** The conventional file name of a contract, next to the data or in a model directory. */
export const CONTRACT_FILE = 'input_schema.json';

/**
 * Parses and checks a contract. Every problem is reported at once, each prefixed with the field
 * path (`columns[2].type: …`); the error's `field` is the first one.
 */
export function parseContract(input: unknown, source = CONTRACT_FILE): DataContract {
  const result = contractSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    field: formatPath(issue.path),
    message: describeIssue(issue, input),
  }));
  const lines = problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
  throw new DataError('INVALID_CONTRACT', `${source}: invalid data contract\n  ${lines.join('\n  ')}`, {
    field: problems[0]?.field,
    source,
  });
}

/** Parses a contract from JSON text (for example an S3 object's body). */
export function parseContractJson(text: string, source = CONTRACT_FILE): DataContract {
  return parseContract(parseJsonText(text, source, 'INVALID_CONTRACT'), source);
}

export async function readContractFile(path: string): Promise<DataContract> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError('READ_FAILED', `cannot read data contract ${path}: ${(error as Error).message}`, {
      source: path,
    });
  }
  return parseContractJson(text, path);
}

/** The model's inputs: every column but the target and the time column, in contract order. */
export function featureNames(contract: DataContract): string[] {
  return contract.columns
    .filter((column) => column.name !== contract.target && column.name !== contract.time_column)
    .map((column) => column.name);
}

export function contractColumn(contract: DataContract, name: string): ContractColumn {
  const column = contract.columns.find((c) => c.name === name);
  if (!column) {
    throw new DataError('INVALID_OPTIONS', `column "${name}" is not in the data contract`, { field: name });
  }
  return column;
}

/**
 * The contract's `version` when it declares one, else `sha256-` and the first 16 hex digits of
 * the digest of its JSON with keys sorted, so an unchanged contract keeps its version.
 */
export function contractVersion(contract: DataContract): string {
  if (contract.version) return contract.version;
  const hex = createHash('sha256').update(canonicalJson(contract)).digest('hex');
  return `sha256-${hex.slice(0, 16)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    text += typeof key === 'number' ? `[${key}]` : text ? `.${String(key)}` : String(key);
  }
  return text;
}

/** Zod's message plus the value it rejected, which zod leaves out for enums and types. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code !== 'invalid_value' && issue.code !== 'invalid_type') return issue.message;
  let value: unknown = input;
  for (const key of issue.path) {
    value =
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  if (value === undefined) return `required (${issue.message})`;
  return `${issue.message}, got ${JSON.stringify(value)}`;
}

/**
 * `mlops contract infer <file>`: drafts a data contract (schemas/data-contract.schema.json) from a
 * CSV, JSON, JSON Lines or Parquet file, for `mlops land --contract` and `mlops train --contract`.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { DataError, inferContract, loadFrame, type Task } from '../../lambdas/core/data';
import { DEFAULT_MAX_CATEGORIES } from '../../lambdas/core/data/infer-contract';
import { nonEmpty } from './option-values';
import { CliError } from './output';

export interface RawInferOptions {
  readonly dataset?: string;
  readonly target?: string;
  readonly task?: string;
  readonly maxCategories?: string;
  readonly output?: string;
}

const EXAMPLES = `
The draft lists every column with its type (number, integer, category, boolean, datetime), the
observed min and max of numeric columns, the values of strings with few distinct ones, and
nullable where a value is missing; string columns with about one value per row (ids) are left out.
Read it and widen the ranges new data will need before landing more batches under it.

Examples:
  $ mlops contract infer sales.csv --dataset sales --target churned -o sales.contract.json
  $ mlops land sales.csv --dataset sales --contract sales.contract.json`;

export function registerContract(program: Command): void {
  const contract = program.command('contract').description('data contracts: draft one from a data file');
  contract
    .command('infer')
    .description('draft a data contract from a CSV, JSON, JSONL or Parquet file')
    .argument('<file>', 'the data file')
    .option('--dataset <name>', "the contract's name (default: the file name without extension)")
    .option('--target <column>', 'the column to predict (default: the last column)')
    .option('--task <task>', 'classification or regression (default: from the target column)')
    .option(
      '--max-categories <n>',
      `strings with at most this many distinct values list them (default ${DEFAULT_MAX_CATEGORIES})`,
    )
    .option('-o, --output <file>', 'write the contract here instead of stdout')
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, raw: RawInferOptions) => {
      const text = await inferContractText(file, raw);
      if (raw.output === undefined) {
        process.stdout.write(text);
        return;
      }
      const output = nonEmpty('--output', raw.output);
      try {
        await writeFile(output, text);
      } catch (error) {
        throw new CliError(`--output: cannot write ${output}: ${(error as Error).message}`, 2);
      }
      process.stderr.write(`wrote ${output}\n`);
    });
}

/** The contract drafted from the file, as the JSON text to write; notes go to stderr. */
export async function inferContractText(
  file: string,
  raw: RawInferOptions,
  note: (line: string) => void = (line) => process.stderr.write(`note: ${line}\n`),
): Promise<string> {
  const task = raw.task;
  if (task !== undefined && task !== 'classification' && task !== 'regression') {
    throw new CliError(`--task must be classification or regression, got "${task}"`, 2);
  }
  let maxCategories: number | undefined;
  if (raw.maxCategories !== undefined) {
    maxCategories = Number(raw.maxCategories);
    if (!/^\d+$/.test(raw.maxCategories.trim()) || maxCategories < 1) {
      throw new CliError(
        `--max-categories must be a whole number of at least 1, got "${raw.maxCategories}"`,
        2,
      );
    }
  }
  const name =
    raw.dataset === undefined ? basename(file).replace(/\.[^.]+$/, '') : nonEmpty('--dataset', raw.dataset);
  try {
    const frame = await loadFrame(file);
    const { contract, notes } = inferContract(frame, {
      name,
      ...(raw.target !== undefined && { target: nonEmpty('--target', raw.target) }),
      ...(task !== undefined && { task: task as Task }),
      ...(maxCategories !== undefined && { maxCategories }),
    });
    for (const line of notes) note(line);
    return `${JSON.stringify(contract, null, 2)}\n`;
  } catch (error) {
    if (error instanceof DataError) {
      const option = error.field === 'target' || error.field === 'task' ? `--${error.field}: ` : '';
      throw new CliError(`${option}${error.message}`, 2);
    }
    throw error;
  }
}

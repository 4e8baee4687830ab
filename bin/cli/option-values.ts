/**
 * Option values the `mlops` commands share: a non-empty string, a file read for an option, and
 * the candidates file of `mlops train` and `mlops run train`. A bad value is a CliError (exit 2)
 * naming the option.
 */
import { readFile } from 'node:fs/promises';
import { parseCandidateSpecs } from '../../lambdas/core/training/candidate-specs';
import { CandidateSpecError } from '../../lambdas/core/training/errors';
import { CliError } from './output';

export function nonEmpty(flag: string, value: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new CliError(`${flag} cannot be empty`, 2);
  return trimmed;
}

export async function readText(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`${flag}: cannot read ${path}: ${reason}`, 2);
  }
}

/**
 * A JSON array of candidate specs `{name, family, params}` (schemas/candidates.schema.json), each
 * checked as the training pipeline checks it; returned as written (defaults are filled in later).
 */
export async function readCandidatesFile(path: string): Promise<unknown[]> {
  const file = nonEmpty('--candidates', path);
  const text = await readText('--candidates', file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--candidates: ${file} is not JSON: ${(error as Error).message}`, 2);
  }
  try {
    parseCandidateSpecs(parsed);
  } catch (error) {
    if (error instanceof CandidateSpecError) {
      const item = /^\[(\d+)\]\.?(.*)$/.exec(error.field);
      const where = item ? `item ${item[1]} of ${file}${item[2] ? `: ${item[2]}` : ''}` : file;
      const reason = error.message.slice(error.field.length + 2);
      throw new CliError(`--candidates: ${where}: ${reason} (the format: schemas/candidates.schema.json)`, 2);
    }
    throw error;
  }
  return parsed as unknown[];
}

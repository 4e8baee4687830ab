/**
 * Option values the `mlops` commands share: a non-empty string, a file read for an option, and
 * the candidates file of `mlops train` and `mlops run train`. A bad value is a CliError (exit 2)
 * naming the option.
 */
import { readFile } from 'node:fs/promises';
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

/** A JSON array of candidate specs `{name, family, params}`, each checked for its name and family. */
export async function readCandidatesFile(path: string): Promise<unknown[]> {
  const file = nonEmpty('--candidates', path);
  const text = await readText('--candidates', file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--candidates: ${file} is not JSON: ${(error as Error).message}`, 2);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new CliError(`--candidates: ${file} must hold a non-empty JSON array of {name, family, params}`, 2);
  }
  parsed.forEach((spec: unknown, i) => {
    const candidate = spec as { name?: unknown; family?: unknown } | null;
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      throw new CliError(`--candidates: item ${i} of ${file} must be an object {name, family, params}`, 2);
    }
    for (const field of ['name', 'family'] as const) {
      if (typeof candidate[field] !== 'string' || (candidate[field] as string).trim() === '') {
        throw new CliError(`--candidates: item ${i} of ${file} needs a "${field}"`, 2);
      }
    }
  });
  return parsed;
}

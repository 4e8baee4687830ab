#!/usr/bin/env node
/**
 * The `mlops` launcher (package.json "bin"), plain JavaScript so Node starts it alone:
 *
 * - `mlops`, `mlops --help`, `mlops --version` run the prebuilt dist/cli/mlops.mjs when it is
 *   there and newer than bin/cli/program.ts (built by `npm install`'s prepare step and
 *   localstack/setup.sh: bin/build-cli.mjs), in a tenth of a second;
 * - everything else, and the above without a bundle, runs bin/mlops.ts through tsx's loader,
 *   registered in this process (one Node start, not the two of the tsx binary).
 */
import { statSync } from 'node:fs';

const args = process.argv.slice(2);
const light =
  args.length === 0 || (args.length === 1 && ['--help', '-h', '--version', '-V'].includes(args[0]));

function mtime(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

const bundle = new URL('../dist/cli/mlops.mjs', import.meta.url);
const built = light ? mtime(bundle) : undefined;
const source = mtime(new URL('./cli/program.ts', import.meta.url));
if (built !== undefined && source !== undefined && built >= source) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('./mlops.ts', import.meta.url).href);
}

#!/usr/bin/env node
/**
 * Builds dist/cli/mlops.mjs, the prebuilt `mlops --help` / `--version` (see bin/mlops.mjs): the
 * program and commander in one file, the subcommand modules left out (they load through tsx when a
 * command runs). Run by `npm install` (prepare) and localstack/setup.sh; without esbuild (an
 * install without dev dependencies) it says so and leaves the launcher on tsx.
 */
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('[build-cli] esbuild is not installed: `mlops` runs through tsx (slower --help)\n');
  process.exit(0);
}
const root = new URL('..', import.meta.url);
await esbuild.build({
  absWorkingDir: root.pathname,
  entryPoints: ['bin/mlops.ts'],
  outfile: 'dist/cli/mlops.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // commander and the rest are imported from node_modules as they are (CommonJS included).
  packages: 'external',
  // Each subcommand's module stays out: the bundle only ever lists them (bin/mlops.mjs sends
  // every command to tsx), and bundling them would load the whole project for --help.
  external: ['./*-command'],
  logLevel: 'warning',
  legalComments: 'none',
});

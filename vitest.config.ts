import { defineConfig } from 'vitest/config';

// Two projects:
// - `unit`: pure code and CDK assertions (synth with bundling off), in the test process only: no
//   child process (CLI, Python, esbuild, `cdk synth`), no socket. test/support/unit-tier-guard.ts
//   makes an attempt fail, naming it. Fast: the whole project runs in well under a minute.
// - `integration`: everything that runs a process or opens a socket, and the tests against real
//   MLflow, Postgres and the local AWS endpoint, which the global set-up starts once for all files.
// Helpers and fixtures shared by several files, of either project, are in test/support/.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/cdk/**/*.test.ts'],
          setupFiles: ['test/support/unit-tier-guard.ts'],
          testTimeout: 15_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          // One file at a time: they share one MLflow server and one mailbox.
          fileParallelism: false,
        },
      },
    ],
  },
});

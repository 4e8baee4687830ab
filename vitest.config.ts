import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code and CDK assertions, no services) and `integration` (real MLflow,
// Postgres and the local AWS endpoint, started once by the global set-up and shared by all files).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/cdk/**/*.test.ts'],
          testTimeout: 120_000,
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

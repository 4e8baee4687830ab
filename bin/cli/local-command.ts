import type { Command } from 'commander';
import { type BackendStore, down, up } from '../../localstack/services/services';
import { CliError, createOutput } from './output';

export function registerLocal(program: Command): void {
  const local = program
    .command('local')
    .description('start and stop the local services (MLflow, Postgres, S3/SES)');
  local
    .command('up')
    .description('start Postgres, the local AWS endpoint and MLflow, or reuse them; writes .local/env')
    .option('--store <store>', 'MLflow backend store: postgres or sqlite', 'postgres')
    .option('--json', 'print the endpoints as one JSON line')
    .action(async (opts: { store: string; json?: boolean }) => {
      if (opts.store !== 'postgres' && opts.store !== 'sqlite') {
        throw new CliError(`--store must be postgres or sqlite, got "${opts.store}"`, 2);
      }
      const out = createOutput(Boolean(opts.json));
      const env = await up({ backendStore: opts.store as BackendStore, log: out.progress });
      out.info(
        `MLflow ${env.MLFLOW_TRACKING_URI}\nAWS endpoint ${env.AWS_ENDPOINT_URL}\nload them with: . .local/env`,
      );
      out.result(env);
    });
  local
    .command('down')
    .description('stop what `mlops local up` started')
    .action(async () => {
      await down((line) => process.stderr.write(`${line}\n`));
    });
}

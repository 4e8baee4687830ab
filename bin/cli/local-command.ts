/**
 * `mlops local up|down` (also `npm run local:up` / `local:down`): the one CLI of the local services
 * (localstack/services/). Progress goes to stderr as `[local] …` lines; `up` prints the endpoints
 * for people, or with --json one JSON line for scripts.
 */
import type { Command } from 'commander';
import {
  credentialsFile,
  down,
  LOCAL_DIR,
  type LocalEndpoints,
  MLFLOW_ADMIN_USER,
  MLFLOW_READER_USER,
  runningBackendStore,
  up,
} from '../../localstack/services/services';
import { createOutput } from './output';
import { chooseBackendStore } from './store-choice';

export function registerLocal(program: Command): void {
  const local = program
    .command('local')
    .description('start and stop the local services (MLflow, Postgres, S3/SES)');
  local
    .command('up')
    .description('start Postgres, the local AWS endpoint and MLflow, or reuse them; writes .local/env')
    .option(
      '--store <store>',
      'MLflow backend store: postgres or sqlite (default: the running one, else postgres if installed); switching restarts MLflow',
    )
    .option('--json', 'print the endpoints as one JSON line')
    .action(async (opts: { store?: string; json?: boolean }) => {
      const { store, note } = chooseBackendStore(opts.store, runningBackendStore());
      if (note) localProgress(note);
      const out = createOutput(Boolean(opts.json));
      const env = await up({ backendStore: store, log: localProgress });
      out.info(endpointsText(env));
      out.result(env);
    });
  local
    .command('down')
    .description('stop what `mlops local up` started')
    .action(async () => {
      await down(localProgress);
      localProgress('all local services stopped');
    });
}

function localProgress(line: string): void {
  process.stderr.write(`[local] ${line}\n`);
}

function endpointsText(env: LocalEndpoints): string {
  return [
    '',
    'Local services are up:',
    `  MLflow UI and API   ${env.MLFLOW_TRACKING_URI}`,
    `  AWS endpoint        ${env.AWS_ENDPOINT_URL}  (S3, SES v1/v2; mailbox at /_aws/ses)`,
    env.MLFLOW_BACKEND_STORE === 'postgres'
      ? `  Postgres            ${env.DATABASE_URL}`
      : '  MLflow store        SQLite (.local/mlflow.db)',
    `  Artifacts           s3://${env.MLFLOW_ARTIFACTS_BUCKET}`,
    '',
    `MLflow asks for basic auth. Open the UI in a browser and log in as ${MLFLOW_ADMIN_USER} or ${MLFLOW_READER_USER};`,
    `the passwords are in ${credentialsFile()} (adminPassword, readerPassword).`,
    `Clients use the pipelines' user: MLFLOW_TRACKING_USERNAME=${env.MLFLOW_TRACKING_USERNAME ?? 'pipelines'} and its password in the env file.`,
    'Add people: mlops mlflow user add <name> --role reader|writer',
    '',
    `Endpoints written to ${LOCAL_DIR}/env; load them with:  . .local/env`,
    'Logs: .local/logs/   Stop: npm run local:down',
  ].join('\n');
}

/**
 * `npm run local:up [-- --json] [-- --store sqlite]` and `npm run local:down`.
 */
import { parseArgs } from 'node:util';
import { type BackendStore, down, LOCAL_DIR, ServiceStartError, up } from './services';

const USAGE = `usage: local-services.ts up [--json] [--store postgres|sqlite]
       local-services.ts down`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, store: { type: 'string', default: 'postgres' } },
  });
  const command = positionals[0];
  const log = (line: string) => process.stderr.write(`[local] ${line}\n`);
  if (command === 'down') {
    await down(log);
    log('all local services stopped');
    return 0;
  }
  if (command !== 'up') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (values.store !== 'postgres' && values.store !== 'sqlite') {
    process.stderr.write(`--store must be postgres or sqlite, got "${values.store}"\n`);
    return 2;
  }
  const env = await up({ backendStore: values.store as BackendStore, log });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(env)}\n`);
  } else {
    process.stdout.write(
      [
        '',
        'Local services are up:',
        `  MLflow UI and API   ${env.MLFLOW_TRACKING_URI}`,
        `  AWS endpoint        ${env.AWS_ENDPOINT_URL}  (S3, SES v1/v2; mailbox at /_aws/ses)`,
        env.MLFLOW_BACKEND_STORE === 'postgres'
          ? `  Postgres            ${env.DATABASE_URL}`
          : '  MLflow store        SQLite (.local/mlflow.db)',
        `  Artifacts           s3://${env.MLFLOW_ARTIFACTS_BUCKET}`,
        '',
        `Endpoints written to ${LOCAL_DIR}/env; load them with:  . .local/env`,
        'Logs: .local/logs/   Stop: npm run local:down',
        '',
      ].join('\n'),
    );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message =
      err instanceof ServiceStartError ? err.message : err instanceof Error ? err.stack : String(err);
    process.stderr.write(`[local] failed: ${message}\n`);
    process.exit(1);
  },
);

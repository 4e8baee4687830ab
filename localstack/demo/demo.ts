/**
 * `npm run demo`: the whole MLOps loop on the local services, end to end, in a couple of minutes.
 *
 *   npm run demo                       # MLflow on SQLite (or on whatever store already runs)
 *   npm run demo -- --store postgres   # MLflow on Postgres
 *   npm run demo -- --json             # also one JSON summary line, last on stdout
 *
 * Progress goes to stderr; the services are started or reused and left running.
 */
import { parseArgs } from 'node:util';
import { type BackendStore, runningBackendStore, up } from '../services/services';
import { demoNames, runDemo } from './flow';
import { createProgress } from './progress';
import { jsonLine, summaryTable } from './summary';

const STORES: readonly BackendStore[] = ['sqlite', 'postgres'];

/**
 * An explicit `--store` wins. Without one, a running MLflow keeps its store: switching would
 * restart it under whoever else is using it (tests, `npm run serve`). Else SQLite, the lighter one.
 */
function chooseStore(flag: string | undefined): BackendStore {
  if (flag !== undefined) {
    if (!STORES.includes(flag as BackendStore)) {
      throw new Error(`--store must be one of ${STORES.join(', ')} (got ${JSON.stringify(flag)})`);
    }
    return flag as BackendStore;
  }
  return runningBackendStore() ?? 'sqlite';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { store: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const started = performance.now();
  const store = chooseStore(values.store);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`local services (MLflow on ${store}):`);
  Object.assign(process.env, await up({ backendStore: store, log: (line) => log(`   ${line}`) }));
  // The steps log through Powertools to stdout; the demo's own lines are the readable record.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

  const suffix = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${Date.now().toString(36)}`;
  const summary = await runDemo(demoNames(suffix), createProgress(log));
  log(summaryTable(summary, performance.now() - started));
  if (values.json) process.stdout.write(`${jsonLine(summary)}\n`);
}

main().then(
  // Open keep-alive sockets of the SDK clients must not hold the demo open.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

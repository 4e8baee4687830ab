/**
 * `npm run demo`: the whole MLOps loop on the local services, end to end, in a couple of minutes.
 *
 *   npm run demo                       # MLflow on the store already running, else Postgres (SQLite without it)
 *   npm run demo -- --store sqlite     # MLflow on SQLite: switches a running MLflow, and says so
 *   npm run demo -- --json             # also one JSON summary line, last on stdout
 *
 * Progress goes to stderr; the services are started or reused and left running.
 */
import { parseArgs } from 'node:util';
import { chooseBackendStore } from '../../bin/cli/store-choice';
import { runningBackendStore, up } from '../services/services';
import { demoNames, runDemo } from './flow';
import { createProgress } from './progress';
import { jsonLine, summaryTable } from './summary';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { store: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const started = performance.now();
  // One rule with `npm run local:up` and `mlops run` (bin/cli/store-choice.ts): the demo's links
  // keep working after them, and only an explicit --store switches the store.
  const { store, note } = chooseBackendStore(values.store, runningBackendStore());
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (note) log(note);
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

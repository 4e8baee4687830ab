/**
 * `npm run local:e2e`: runs the four deployed pipelines on the local emulator `npm run
 * local:deploy` used (LocalStack in Docker, or ministack without Docker) through the Step Functions
 * API, reads the alert from the emulator's mailbox, calls the deployed predict API, follows an
 * alias move and fires a copy of a deployed schedule (see localstack/deploy/e2e-checks.ts), then
 * prints a report: every check, every state machine execution, the e-mails, the predict answers.
 *
 * Exit codes: 0 every check passed, 1 a check failed, 2 nothing deployed (run `npm run
 * local:deploy` first), 3 the deployment is on LocalStack and there is no Docker engine.
 */
import { readDeploymentRecord } from './localstack-deployment';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const record = readDeploymentRecord();
  if (record?.emulator !== 'ministack') {
    // A LocalStack deployment (or one from before the record existed) needs the compose stack.
    const { requireDockerEngine } = await import('./docker-engine');
    await requireDockerEngine('npm run local:e2e');
  }
  // Loaded after the check, so a machine without Docker gets its answer at once.
  const { EXIT_NOT_DEPLOYED, DeploymentError, localStackEndpoints, readStackOutputs } = await import(
    './localstack-deployment'
  );
  let outputs: ReturnType<typeof readStackOutputs>;
  try {
    outputs = readStackOutputs();
  } catch (error) {
    if (!(error instanceof DeploymentError)) throw error;
    log(`local:e2e: ${error.message}`);
    return EXIT_NOT_DEPLOYED;
  }
  const endpoints = record
    ? {
        awsUrl: record.awsUrl,
        mlflowUrl: record.mlflowUrl,
        awsPort: Number(new URL(record.awsUrl).port),
        region: record.region,
      }
    : localStackEndpoints();
  const emulator = record?.emulator ?? 'localstack';
  log(`local:e2e on ${emulator} at ${endpoints.awsUrl}, MLflow at ${endpoints.mlflowUrl}`);
  const { runE2eChecks } = await import('./e2e-checks');
  const started = performance.now();
  const report = await runE2eChecks(outputs, endpoints, log, emulator);
  const { results } = report;

  log('');
  log(`local:e2e report (${emulator}, ${((performance.now() - started) / 1000).toFixed(0)}s)`);
  log('State machine executions:');
  const machineWidth = Math.max(0, ...report.executions.map((e) => e.stateMachine.length));
  const nameWidth = Math.max(0, ...report.executions.map((e) => e.name.length));
  for (const e of report.executions) {
    const took = e.seconds === null ? 'running' : `${e.seconds.toFixed(1)}s`;
    log(
      `  ${e.stateMachine.padEnd(machineWidth)}  ${e.name.padEnd(nameWidth)}  ${e.status.padEnd(9)} ${took}`,
    );
  }
  if (report.executions.length === 0) log('  (none)');
  log('E-mail:');
  for (const m of report.mail) {
    log(`  from ${m.from} to ${m.to.join(', ')}: ${m.subject}`);
    for (const line of m.body
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(0, 4))
      log(`    ${line}`);
  }
  if (report.mail.length === 0) log('  (none read)');
  log('Predict answers:');
  for (const p of report.predictions) log(`  model version ${p.version}: ${p.labels.join(', ')}`);
  if (report.predictions.length === 0) log('  (none)');

  const width = Math.max(...results.map((r) => r.name.length));
  const mark = { passed: '✓', failed: '✗', 'not run': '-' } as const;
  log('Checks:');
  for (const result of results) {
    const took = result.status === 'not run' ? '' : ` (${result.seconds.toFixed(1)}s)`;
    log(`  ${mark[result.status]} ${result.name.padEnd(width)}  ${result.detail.split('\n')[0]}${took}`);
  }
  const passed = results.filter((r) => r.status === 'passed').length;
  const ok = passed === results.length;
  log(`local:e2e ${ok ? 'PASSED' : 'FAILED'}: ${passed} of ${results.length} checks passed`);
  return ok ? 0 : 1;
}

main().then(
  // The SDK clients' keep-alive sockets must not hold the process open.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`local:e2e failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

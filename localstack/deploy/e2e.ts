/**
 * `npm run local:e2e`: runs the four deployed pipelines on LocalStack through the Step Functions
 * API and calls the deployed predict API (see localstack/e2e-checks.ts), then prints a summary.
 *
 * Exit codes: 0 every check passed, 1 a check failed, 2 nothing deployed (run `npm run
 * local:deploy` first), 3 no Docker engine. Without Docker, `npm run demo` runs the same pipelines
 * on plain local processes.
 */
import { requireDockerEngine } from './docker-engine';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  await requireDockerEngine('npm run local:e2e');
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
  const { runE2eChecks } = await import('./e2e-checks');
  const started = performance.now();
  const results = await runE2eChecks(outputs, localStackEndpoints(), log);

  const width = Math.max(...results.map((r) => r.name.length));
  const mark = { passed: '✓', failed: '✗', 'not run': '-' } as const;
  log('');
  log(`local:e2e summary (${((performance.now() - started) / 1000).toFixed(0)}s):`);
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

/**
 * `npm run local:deploy`: the CDK stack on a local AWS emulator.
 *
 *   - with a Docker engine: LocalStack from localstack/deploy/compose.yml (deploy-steps.ts)
 *   - without one: ministack as a plain process (ministack-steps.ts), MLflow and Postgres from
 *     `mlops local up`
 *
 * MLOPS_EMULATOR=ministack|localstack picks one regardless. Either way: cdklocal bootstrap, cdklocal
 * deploy MlopsStack-dev -c localstack=true, the outputs in .local/localstack-outputs.json and the
 * deployment record (.local/local-deployment.json) for `npm run local:e2e`.
 *
 * `npm run local:deploy -- --destroy` (ministack): empties the stack's buckets, cdklocal destroy,
 * checks that nothing of the stack is left on the emulator, then stops ministack.
 *
 * Exit codes: 0 deployed (or destroyed), 1 a step failed (its last output lines are shown) or
 * something was left after --destroy, 2 a bad option, 3 LocalStack asked for and no Docker engine.
 */
import { detectDockerEngine, requireDockerEngine } from './docker-engine';
import { chooseEmulator, DeploymentError } from './localstack-deployment';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--destroy');
  if (unknown.length > 0) {
    log(`local:deploy: unknown option ${unknown.join(' ')} (known: --destroy)`);
    return 2;
  }
  if (args.includes('--destroy')) {
    const { destroyOnMinistack, stopMinistack } = await import('./ministack-steps');
    const left = await destroyOnMinistack(log);
    const remaining = Object.entries(left).filter(([, names]) => names.length > 0);
    await stopMinistack(log);
    if (remaining.length > 0) {
      log(
        `local:deploy --destroy: left on ministack: ${remaining.map(([kind, names]) => `${kind} ${names.join(', ')}`).join('; ')}`,
      );
      return 1;
    }
    log('local:deploy --destroy: nothing of the stack is left on ministack; ministack stopped');
    return 0;
  }
  const emulator = await chooseEmulator(process.env, async () => (await detectDockerEngine()).available);
  if (emulator === 'ministack') {
    log('local:deploy: no Docker engine (or MLOPS_EMULATOR=ministack): deploying to ministack');
    const { deployToMinistack } = await import('./ministack-steps');
    await deployToMinistack(log);
    return 0;
  }
  const engine = await requireDockerEngine('npm run local:deploy');
  // Loaded after the check: the CDK libraries take seconds to load, a missing engine answers at once.
  const { deployToLocalStack } = await import('./deploy-steps');
  await deployToLocalStack(engine, log);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message =
      error instanceof DeploymentError
        ? error.message
        : error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
    process.stderr.write(`local:deploy failed: ${message}\n`);
    process.exit(1);
  },
);

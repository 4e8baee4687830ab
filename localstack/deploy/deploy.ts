/**
 * `npm run local:deploy`: the CDK stack on LocalStack, for machines with a Docker engine.
 *
 *   1. checks for a Docker engine (none: says what is missing and exits 3)
 *   2. starts localstack/deploy/compose.yml (LocalStack, Postgres, MLflow) and waits for LocalStack
 *   3. cdklocal bootstrap, then cdklocal deploy MlopsStack-dev -c localstack=true
 *      (MLflow from the compose file instead of ECS; see lib/localstack-target.ts)
 *   4. writes the stack outputs to .local/localstack-outputs.json for `npm run local:e2e`
 *
 * Exit codes: 0 deployed, 1 a step failed (its last output lines are shown), 3 no Docker engine.
 * Without Docker, `npm run demo` runs the same pipelines on plain local processes.
 */
import { requireDockerEngine } from './docker-engine';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const engine = await requireDockerEngine('npm run local:deploy');
  // Loaded after the check: the CDK libraries take seconds to load, a missing engine answers at once.
  const { deployToLocalStack } = await import('./deploy-steps');
  await deployToLocalStack(engine, log);
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    const { DeploymentError } = await import('./localstack-deployment');
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

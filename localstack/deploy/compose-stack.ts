/**
 * The Docker Compose side of `npm run local:deploy`: start localstack/deploy/compose.yml (LocalStack,
 * Postgres, MLflow) and wait until LocalStack says it is up, with the failure's cause spelt out
 * when it does not come up.
 */

import { ROOT } from '../services/local-paths';
import { COMPOSE_FILE, DeploymentError } from './localstack-deployment';
import { runStreaming } from './run-streaming';

/** `docker compose up -d --wait --build`: returns once every service with a healthcheck is healthy. */
export async function composeUp(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const result = await runStreaming(
    'docker',
    ['compose', '-f', COMPOSE_FILE, 'up', '-d', '--wait', '--build'],
    {
      cwd: ROOT,
      env,
      onLine: (line) => log(`   ${line}`),
    },
  );
  if (result.exitCode === 0) return;
  const logs = await runStreaming(
    'docker',
    ['compose', '-f', COMPOSE_FILE, 'logs', '--no-color', '--tail', '30'],
    {
      cwd: ROOT,
      env,
    },
  );
  throw new DeploymentError(
    [
      `docker compose up failed (exit ${result.exitCode ?? result.startError}). Its last lines:`,
      ...indent(result.tail.slice(-20)),
      'Last lines of the services:',
      ...indent(logs.tail),
      ...composeHints([...result.tail, ...logs.tail]),
    ].join('\n'),
  );
}

/** What a user can do about the failures people actually hit, recognised from the output. */
export function composeHints(lines: readonly string[]): string[] {
  const text = lines.join('\n');
  const hints: string[] = [];
  if (/port is already allocated|address already in use/i.test(text)) {
    hints.push(
      'A port of the compose file is taken. If the Docker-free services run (npm run local:up), stop them with',
      'npm run local:down, or move the ports with MLOPS_AWS_PORT, MLOPS_MLFLOW_PORT, MLOPS_POSTGRES_PORT.',
    );
  }
  if (/auth(entication)? token|LOCALSTACK_AUTH_TOKEN|license/i.test(text)) {
    hints.push(
      'LocalStack asks for an auth token: create a free account, then export LOCALSTACK_AUTH_TOKEN=<token>',
      'and run npm run local:deploy again.',
    );
  }
  if (/pull access denied|failed to resolve|TLS handshake|i\/o timeout|no such host/i.test(text)) {
    hints.push('Docker could not pull or build an image: check the network connection or a registry proxy.');
  }
  return hints.length > 0 ? ['Hint:', ...indent(hints)] : [];
}

export interface LocalStackHealth {
  readonly version: string;
  /** `community`, `pro`, … as LocalStack reports it. */
  readonly edition: string;
  /** Services LocalStack reports as failed to start. */
  readonly failedServices: readonly string[];
}

/** Parses LocalStack's `/_localstack/health` answer. */
export function parseHealth(body: unknown): LocalStackHealth {
  const health = (typeof body === 'object' && body !== null ? body : {}) as {
    version?: unknown;
    edition?: unknown;
    services?: unknown;
  };
  const services =
    typeof health.services === 'object' && health.services !== null
      ? (health.services as Record<string, unknown>)
      : {};
  return {
    version: typeof health.version === 'string' ? health.version : 'unknown',
    edition: typeof health.edition === 'string' ? health.edition : 'unknown',
    failedServices: Object.entries(services)
      .filter(([, state]) => state === 'error')
      .map(([name]) => name),
  };
}

/** Polls `/_localstack/health` until it answers 200, or fails after `timeoutMs`. */
export async function waitForLocalStack(awsUrl: string, timeoutMs = 120_000): Promise<LocalStackHealth> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${awsUrl}/_localstack/health`, { signal: AbortSignal.timeout(3000) });
      if (response.ok) return parseHealth(await response.json());
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new DeploymentError(
    `LocalStack did not answer ${awsUrl}/_localstack/health within ${timeoutMs / 1000}s (${last}); see docker compose -f localstack/deploy/compose.yml logs localstack`,
  );
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

/**
 * `cdklocal` (aws-cdk-local, a dev dependency): the CDK CLI with its AWS endpoints moved to
 * LocalStack. From aws-cdk 2.177 on it strips every AWS_* variable except AWS_ENDPOINT_URL* and an
 * allowlist (AWS_ENVAR_ALLOWLIST), so a profile or real credentials in the shell cannot send the
 * deployment to AWS; it insists on AWS_ENDPOINT_URL_S3 (with an `.s3.` host) whenever
 * AWS_ENDPOINT_URL is set, which `.local/env` of the Docker-free stack does.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from '../services/local-paths';
import { CDK_OUT_DIR, DeploymentError, OUTPUTS_FILE, STACK_NAME } from './localstack-deployment';
import { runStreaming } from './run-streaming';

export const CDKLOCAL = join(ROOT, 'node_modules', '.bin', 'cdklocal');

/** LocalStack's account id for the test credentials. */
export const LOCALSTACK_ACCOUNT = '000000000000';

/**
 * The environment of a cdklocal run: LocalStack's edge port through the `localhost.localstack.cloud`
 * names (they resolve to 127.0.0.1; S3 asset uploads need a host with sub-domains), the region
 * allowlisted, and the project's own Node 22 first on PATH for the app (`tsx bin/app.ts`).
 */
export function cdkLocalEnv(base: NodeJS.ProcessEnv, awsPort: number, region: string): NodeJS.ProcessEnv {
  return {
    ...base,
    PATH: `${join(ROOT, 'node_modules', '.bin')}:${base.PATH ?? ''}`,
    AWS_ENDPOINT_URL: `http://localhost.localstack.cloud:${awsPort}`,
    AWS_ENDPOINT_URL_S3: `http://s3.localhost.localstack.cloud:${awsPort}`,
    AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    CDK_DISABLE_LEGACY_EXPORT_WARNING: '1',
  };
}

/**
 * The environment of a cdklocal run against ministack: every endpoint at
 * `http://127.0.0.1:<port>` (no DNS; `localhost.localstack.cloud` does not resolve offline), so S3
 * goes path-style, and the project's Node 22 first on PATH.
 */
export function cdkMinistackEnv(base: NodeJS.ProcessEnv, awsUrl: string, region: string): NodeJS.ProcessEnv {
  return {
    ...base,
    PATH: `${join(ROOT, 'node_modules', 'node', 'bin')}:${join(ROOT, 'node_modules', '.bin')}:${base.PATH ?? ''}`,
    AWS_ENDPOINT_URL: awsUrl,
    AWS_ENDPOINT_URL_S3: awsUrl,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION,AWS_S3_FORCE_PATH_STYLE',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    CDK_DISABLE_LEGACY_EXPORT_WARNING: '1',
  };
}

/** `-c key=value` for each context entry. */
export function contextArgs(context: Readonly<Record<string, string>>): string[] {
  return Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
}

/**
 * Runs cdklocal with its output shown as it comes; fails with the CDK's last lines. The CDK CLI
 * caches the emulator's availability-zone lookup (account 000000000000) in the checkout's
 * cdk.context.json; that file is put back as it was, so a local deploy leaves the checkout clean.
 */
export async function runCdkLocal(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  const contextFile = join(ROOT, 'cdk.context.json');
  const before = existsSync(contextFile) ? readFileSync(contextFile, 'utf8') : undefined;
  const result = await runStreaming(CDKLOCAL, args, {
    cwd: ROOT,
    env,
    onLine: (line) => log(`   ${line}`),
  }).finally(() => {
    if (before === undefined) rmSync(contextFile, { force: true });
    else writeFileSync(contextFile, before);
  });
  if (result.exitCode === 0) return;
  const what = `cdklocal ${args.slice(0, 2).join(' ')}`;
  if (result.startError) {
    throw new DeploymentError(`${what} could not start (${result.startError}): run npm install`);
  }
  throw new DeploymentError(
    [
      `${what} failed (exit ${result.exitCode}). The CDK's last lines:`,
      ...result.tail.map((l) => `  ${l}`),
    ].join('\n'),
  );
}

/**
 * `cdklocal deploy` of the stack with the given context, the outputs written to OUTPUTS_FILE
 * (a stale file removed first, so a failed deploy leaves none for local:e2e to trust).
 */
export async function cdkLocalDeploy(
  context: readonly string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  log(`4. cdklocal deploy ${STACK_NAME} -c localstack=true (bundles every function; a few minutes)`);
  mkdirSync(dirname(OUTPUTS_FILE), { recursive: true });
  rmSync(OUTPUTS_FILE, { force: true });
  await runCdkLocal(
    [
      'deploy',
      STACK_NAME,
      ...context,
      '--require-approval',
      'never',
      '--outputs-file',
      OUTPUTS_FILE,
      '--output',
      CDK_OUT_DIR,
      '--progress',
      'events',
    ],
    env,
    log,
  );
}

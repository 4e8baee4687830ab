/**
 * The CDK app itself, deployed and run on a local AWS emulator without Docker, as a user runs it:
 * `npm run local:deploy` (MLOPS_EMULATOR=ministack, so it runs on machines with Docker too),
 * `npm run local:e2e` against that one deployment, then `npm run local:deploy -- --destroy`.
 *
 * It shares the MLflow and Postgres the global set-up started (same ports and state directory,
 * files run one at a time); ministack gets its own port (MLOPS_MINISTACK_PORT, else 4767, apart
 * from local:deploy's 4567) and is stopped at the end.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT_FILE } from '../../localstack/deploy/localstack-deployment';
import { ROOT } from '../../localstack/services/services';

const MINUTES = 60_000;
const ENV = {
  ...process.env,
  MLOPS_EMULATOR: 'ministack',
  MLOPS_MINISTACK_PORT: process.env.MLOPS_MINISTACK_PORT ?? '4767',
};

function run(file: string, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('localstack', 'deploy', file), ...args], {
      cwd: ROOT,
      env: ENV,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

let destroyed = false;

describe('npm run local:deploy + local:e2e + --destroy on ministack (no Docker)', () => {
  afterAll(async () => {
    // A failed deploy or e2e still removes the stack and stops ministack.
    if (!destroyed) await run('deploy.ts', ['--destroy']);
  }, 5 * MINUTES);

  it(
    'deploys MlopsStack-dev -c localstack=true to ministack with cdklocal and writes the outputs',
    async () => {
      const deploy = await run('deploy.ts');
      expect(deploy.code, deploy.stderr.slice(-4000)).toBe(0);
      expect(deploy.stderr).toContain('MlopsStack-dev is deployed on ministack');
      expect(JSON.parse(readFileSync(DEPLOYMENT_FILE, 'utf8'))).toMatchObject({
        emulator: 'ministack',
        awsUrl: `http://127.0.0.1:${ENV.MLOPS_MINISTACK_PORT}`,
      });
      // The CDK's lookup cache for the emulator's account does not stay in the checkout.
      expect(existsSync(join(ROOT, 'cdk.context.json'))).toBe(false);
    },
    15 * MINUTES,
  );

  it(
    'runs the lifecycle through the deployed APIs and reports executions, e-mail and predict answers',
    async () => {
      const e2e = await run('e2e.ts');
      expect(e2e.code, e2e.stderr.slice(-6000)).toBe(0);
      expect(e2e.stderr).toMatch(/local:e2e PASSED: (\d+) of \1 checks passed/);
      const report = e2e.stderr.slice(e2e.stderr.indexOf('local:e2e report'));
      for (const machine of ['data', 'training', 'inference', 'monitoring']) {
        expect(report).toMatch(new RegExp(`mlops-dev-${machine} +\\S+ +SUCCEEDED +\\d+\\.\\d+s`));
      }
      expect(report).not.toMatch(/ (FAILED|TIMED_OUT|ABORTED) /);
      expect(report).toMatch(/from mlops-alerts@example\.com to data-science@example\.com: \[drift\]/);
      // The first Production version, then the one the alias moved to.
      expect(report.match(/model version \d+: setosa, virginica/g)?.length).toBe(2);
      for (const check of ['alert e-mail', 'alias move', 'schedule', 'POST /predict, keyed or signed']) {
        expect(report).toMatch(new RegExp(`✓ [^\\n]*${check}`));
      }
    },
    15 * MINUTES,
  );

  it(
    'cdk destroy leaves nothing of the stack on ministack',
    async () => {
      const destroy = await run('deploy.ts', ['--destroy']);
      destroyed = true;
      expect(destroy.code, destroy.stderr.slice(-4000)).toBe(0);
      for (const kind of [
        'stack',
        'buckets',
        'functions',
        'layers',
        'stateMachines',
        'schedules',
        'restApis',
      ]) {
        expect(destroy.stderr).toContain(`${kind}: none`);
      }
      expect(destroy.stderr).toContain('nothing of the stack is left on ministack; ministack stopped');
    },
    5 * MINUTES,
  );
});

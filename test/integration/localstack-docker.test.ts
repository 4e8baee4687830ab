/**
 * `npm run local:deploy` then `npm run local:e2e`, as a user runs them, on a machine with a Docker
 * engine: the CDK stack on LocalStack, the four pipelines through the Step Functions API and the
 * deployed predict API. Machines without Docker skip this suite, and the run output says why.
 *
 * It runs beside the Docker-free services of the other integration files, so the compose stack
 * gets its own project name, ports and local directory, and is taken down afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectDockerEngine } from '../../localstack/deploy/docker-engine';
import { COMPOSE_FILE } from '../../localstack/deploy/localstack-deployment';
import { ROOT } from '../../localstack/services/services';

const engine = await detectDockerEngine();
const reason = engine.available ? '' : `no usable Docker engine: ${engine.detail}`;

const ENV = {
  ...process.env,
  PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
  COMPOSE_PROJECT_NAME: 'serverless-mlops-it',
  MLOPS_AWS_PORT: '4766',
  MLOPS_MLFLOW_PORT: '5766',
  MLOPS_POSTGRES_PORT: '55766',
  MLOPS_LOCAL_DIR: join(ROOT, '.local', 'localstack-it'),
};
const MINUTES = 60_000;

function run(file: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('localstack', 'deploy', file)], {
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

describe.skipIf(!engine.available)('npm run local:deploy + npm run local:e2e on LocalStack (Docker)', () => {
  afterAll(() => {
    spawnSync('docker', ['compose', '-f', COMPOSE_FILE, 'down', '--volumes'], { cwd: ROOT, env: ENV });
  }, 5 * MINUTES);

  it(
    'deploys MlopsStack-dev with cdklocal and writes the outputs',
    async () => {
      const deploy = await run('deploy.ts');
      expect(deploy.code, deploy.stderr.slice(-4000)).toBe(0);
      expect(deploy.stderr).toContain('MlopsStack-dev is deployed on LocalStack');
    },
    40 * MINUTES,
  );

  it(
    'runs data → training → inference → monitoring and calls the predict API',
    async () => {
      const e2e = await run('e2e.ts');
      expect(e2e.code, e2e.stderr.slice(-4000)).toBe(0);
      expect(e2e.stderr).toMatch(/local:e2e PASSED: (\d+) of \1 checks passed/);
    },
    60 * MINUTES,
  );
});

// The default reporter lists a skipped suite without a reason (a skip note shows only in the
// verbose reporter): this test prints the reason, then skips with it as its note.
describe.runIf(!engine.available)('npm run local:deploy + npm run local:e2e on LocalStack (Docker)', () => {
  it('is skipped on this machine', ({ skip }) => {
    console.warn(`[skipped] local:deploy + local:e2e on LocalStack: ${reason}`);
    skip(reason);
  });
});

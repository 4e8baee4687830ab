import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The real CLI; no MLflow is needed: each case fails before any call to it. */
function mlops(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('tsx', ['bin/mlops.ts', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('mlops promote / rollback / status arguments', () => {
  it('rejects bad arguments and a missing MLFLOW_TRACKING_URI in one line with exit code 2', async () => {
    const { MLFLOW_TRACKING_URI: _unset, ...withoutMlflow } = process.env;
    const [badVersion, badAlias, noTracking, help] = await Promise.all([
      mlops(['promote', 'iris', 'two']),
      mlops(['rollback', 'iris', '--alias', 'prod/1']),
      mlops(['status'], withoutMlflow),
      mlops(['status', '--help']),
    ]);
    expect(badVersion).toMatchObject({
      status: 2,
      stderr: "mlops: version must be a positive integer, got 'two'\n",
    });
    expect(badAlias).toMatchObject({
      status: 2,
      stderr: "mlops: alias must be 1 to 255 letters, digits, '_' or '-', got 'prod/1'\n",
    });
    expect(noTracking.status).toBe(2);
    expect(noTracking.stderr).toBe(
      'mlops: MLFLOW_TRACKING_URI is required: the MLflow tracking server URL, e.g. http://127.0.0.1:5000\n',
    );
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: mlops status [options] [model]');
    expect(help.stdout).toContain('--api <url>');
  });
});

/**
 * `mlops train` as a user runs it, against the local MLflow: progress on stderr, the JSON line
 * last on stdout.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { mlops } from '../support/entry-point';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const MODEL = `train-cli-${SUFFIX}`;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'train-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mlops train', () => {
  it('trains iris, shows progress per candidate and prints the result as the last JSON line', async () => {
    const candidates = join(dir, 'candidates.json');
    await writeFile(
      candidates,
      JSON.stringify([
        { name: 'logistic_regression', family: 'logistic_regression' },
        { name: 'random_forest', family: 'random_forest', params: { n_estimators: 20, max_depth: 4 } },
      ]),
    );

    const { status, stdout, stderr } = await mlops(
      [
        'train',
        '--dataset',
        'iris',
        '--model',
        MODEL,
        '--candidates',
        candidates,
        '--promote',
        'challenger',
        '--work-dir',
        dir,
        '--json',
      ],
      { timeoutMs: 120_000 },
    );

    expect(status, stderr).toBe(0);

    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1] ?? '');
    expect(result).toMatchObject({
      model: MODEL,
      version: '1',
      metric: { name: 'f1_macro' },
      dataset: { name: 'iris', rows: 150, quarantined: 0 },
      promotion: { alias: 'Challenger' },
    });
    expect(result.run_id).toMatch(/^[0-9a-f]{32}$/);
    expect(result.candidates.map((c: { name: string }) => c.name)).toEqual([
      'logistic_regression',
      'random_forest',
    ]);
    for (const candidate of result.candidates) {
      expect(candidate.run_id).toMatch(/^[0-9a-f]{32}$/);
      expect(candidate.metrics.accuracy).toBeGreaterThan(0.9);
    }
    expect(result.metric.value).toBe(
      Math.max(...result.candidates.map((c: { metrics: { f1_macro: number } }) => c.metrics.f1_macro)),
    );
    expect(stderr).toMatch(
      /^\[1\/2\] logistic_regression {2}f1_macro 0\.\d{4} {2}\d+\.\d{2} s {2}run [0-9a-f]{32}$/m,
    );
    expect(stderr).toMatch(
      /^\[2\/2\] random_forest {2}f1_macro 0\.\d{4} {2}\d+\.\d{2} s {2}run [0-9a-f]{32}$/m,
    );
    expect(stderr).toContain(`registered ${MODEL} version 1`);

    const mlflow = MlflowClient.fromEnv();
    expect((await mlflow.getModelVersionByAlias(MODEL, 'Challenger')).run_id).toBe(result.run_id);
    // Its experiment is named after the model, as the training pipeline names it.
    const experiment = await mlflow.getExperimentByName(MODEL);
    const { runs = [] } = await mlflow.searchRuns({ experiment_ids: [experiment.experiment_id] });
    expect(runs.map((run) => run.info.run_name).sort()).toEqual(['logistic_regression', 'random_forest']);
  });
});

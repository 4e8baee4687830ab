import { describe, expect, it } from 'vitest';
import { MlflowUnavailableError } from '../../lambdas/core/mlflow';
import type { StepContext } from '../../lambdas/steps/support/step-context';
import { publishServing } from '../../lambdas/steps/tasks/promote-model';

function contextWith(env: Record<string, string>, mlflow: () => unknown): StepContext {
  return { env, mlflow, s3: {} } as unknown as StepContext;
}

describe('the promotion step writing the serving manifest', () => {
  it('skips it, with a log line, when the stack has no SERVING_BUCKET', async () => {
    const logged: Record<string, unknown>[] = [];
    let asked = false;
    await publishServing(
      contextWith({}, () => {
        asked = true;
      }),
      'iris',
      'Production',
      (entry) => logged.push(entry),
    );
    expect(asked).toBe(false);
    expect(logged).toEqual([
      {
        serving: 'skipped',
        model: 'iris',
        alias: 'Production',
        reason: 'SERVING_BUCKET is not set: no serving manifest to write',
      },
    ]);
  });

  it('logs a failure and leaves it to the reconciler instead of failing the step (the alias has moved)', async () => {
    const logged: Record<string, unknown>[] = [];
    const mlflow = {
      getModelVersionByAlias: async () => {
        throw new MlflowUnavailableError('GET model-versions/get-by-alias', 3, undefined, {
          cause: new Error('connect ECONNREFUSED'),
        });
      },
    };
    const s3 = {
      send: async () => {
        throw Object.assign(new Error('NoSuchKey'), {
          name: 'NoSuchKey',
          $metadata: { httpStatusCode: 404 },
        });
      },
    };
    const context = {
      env: { SERVING_BUCKET: 'serving' },
      mlflow: () => mlflow,
      s3,
    } as unknown as StepContext;
    await publishServing(context, 'iris', 'Production', (entry) => logged.push(entry));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      serving: 'failed',
      model: 'iris',
      alias: 'Production',
      bucket: 'serving',
    });
    expect(String(logged[0]?.error)).toMatch(/ECONNREFUSED/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../../lambdas/steps/catalogue';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { MLFLOW_STEPS } from '../../lib/pipelines';

describe('MLFLOW_STEPS', () => {
  it('names exactly the steps whose task calls MLflow, so the others can leave the VPC', () => {
    const calling = STEP_NAMES.filter((step) =>
      /context\.mlflow\(\)/.test(
        readFileSync(join(PROJECT_ROOT, 'lambdas/steps/tasks', `${step}.ts`), 'utf8'),
      ),
    );
    expect([...MLFLOW_STEPS].sort()).toEqual([...calling].sort());
  });
});

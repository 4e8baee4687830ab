/**
 * The SageMaker trainer's own logic, with the three candidate steps stubbed at the project's step
 * interface: the Map's concurrency, order, failure shape and transient-error retries, and how a
 * malformed plan or hyperparameters file is named; and the local runner's emulation of the job up
 * to the point where the trainer would reach S3. The real steps run against MLflow and S3 in
 * test/integration/pipelines-sagemaker.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MlflowUnavailableError } from '../../lambdas/core/mlflow';
import { parseHyperparameters, TrainerInputError } from '../../lambdas/sagemaker-trainer/main';
import {
  type CandidateSteps,
  type ContainerPlan,
  parseMaxConcurrency,
  parsePlan,
  TRANSIENT_RETRY,
  trainCandidates,
} from '../../lambdas/sagemaker-trainer/train-plan';
import type {
  CandidateSpec,
  EvaluateCandidateInput,
  LogCandidateRunInput,
  TrainCandidateInput,
} from '../../lambdas/steps/step-io';
import type { StepContext } from '../../lambdas/steps/support/step-context';
import { StepInputError } from '../../lambdas/steps/support/step-errors';
import {
  localTrainingJob,
  parseTrainingJobRequest,
  TrainingJobFailedError,
  TrainingJobRequestError,
} from '../../localstack/runner/sagemaker-training-job';

const ptr = (key: string) => ({ bucket: 'curated', key });
const dataset = {
  name: 'iris',
  version: 'sha256-1a2b',
  manifest: ptr('datasets/iris/sha256-1a2b/manifest.json'),
  train: ptr('datasets/iris/sha256-1a2b/train.parquet'),
  test: ptr('datasets/iris/sha256-1a2b/test.parquet'),
  reference: ptr('datasets/iris/sha256-1a2b/reference.parquet'),
  rowCount: 150,
};
const candidate = (name: string): CandidateSpec => ({ name, family: 'logistic_regression', params: {} });
const planOf = (names: string[]): ContainerPlan => ({
  runId: 't-1',
  experimentName: 'iris-classifier',
  dataset,
  candidates: names.map(candidate),
  sageMakerResults: ptr('training-runs/t-1/candidates.json'),
});
// The steps are stubbed, so the context is never read.
const context = {} as StepContext;
const noWait = async () => {};

/** Steps that succeed after `ms`, recording every call and the most candidates in flight at once. */
function recordingSteps(
  ms = 5,
  fail: (step: string, name: string, attempt: number) => Error | undefined = () => undefined,
) {
  const calls: { step: string; input: unknown }[] = [];
  const attempts = new Map<string, number>();
  let active = 0;
  let peak = 0;
  const run = async <T>(step: string, name: string, input: unknown, answer: T): Promise<T> => {
    calls.push({ step, input });
    const key = `${step}:${name}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    await new Promise((resolve) => setTimeout(resolve, ms));
    const error = fail(step, name, attempt);
    if (error) throw error;
    return answer;
  };
  const steps: CandidateSteps = {
    train: async (input: TrainCandidateInput) => {
      active++;
      peak = Math.max(peak, active);
      try {
        return await run('train', input.candidate.name, input, {
          model: { bucket: 'curated', prefix: `training-runs/t-1/${input.candidate.name}/model/` },
          trainingSeconds: 1,
          mlflowRunId: `run-${input.candidate.name}`,
        });
      } catch (error) {
        active--;
        throw error;
      }
    },
    evaluate: async (input: EvaluateCandidateInput) => {
      try {
        return await run('evaluate', input.candidate.name, input, {
          metrics: { accuracy: 0.9 },
          report: ptr(`training-runs/t-1/${input.candidate.name}/evaluation.json`),
        });
      } catch (error) {
        active--;
        throw error;
      }
    },
    log: async (input: LogCandidateRunInput) => {
      try {
        return await run('log', input.candidate.name, input, {
          status: 'succeeded' as const,
          candidateId: input.candidate.name,
          algorithm: input.candidate.family,
          mlflowRunId: input.training.mlflowRunId,
          modelUri: `mlflow-artifacts:/1/${input.training.mlflowRunId}/artifacts/model`,
          metrics: input.evaluation.metrics,
        });
      } finally {
        active--;
      }
    },
  };
  return { steps, calls, peak: () => peak, attempts };
}

describe('training the candidates of a plan in the container', () => {
  it('runs train, evaluate and log per candidate with the Map items, at most max_concurrency at once, results in plan order', async () => {
    const { steps, calls, peak } = recordingSteps(10);
    const names = ['a', 'b', 'c', 'd', 'e'];

    const results = await trainCandidates(planOf(names), 2, context, { steps, sleep: noWait });

    expect(results.map((r) => [r.status, r.candidateId])).toEqual(names.map((n) => ['succeeded', n]));
    expect(peak()).toBe(2);
    expect(calls.filter((c) => c.step === 'train')[0]?.input).toEqual({
      runId: 't-1',
      experimentName: 'iris-classifier',
      dataset,
      candidate: candidate('a'),
    });
    expect(calls.filter((c) => c.step === 'evaluate')[0]?.input).toEqual({
      runId: 't-1',
      dataset,
      candidate: candidate('a'),
      model: { bucket: 'curated', prefix: 'training-runs/t-1/a/model/' },
      mlflowRunId: 'run-a',
    });
    expect(calls.filter((c) => c.step === 'log')[0]?.input).toMatchObject({
      runId: 't-1',
      experimentName: 'iris-classifier',
      training: { mlflowRunId: 'run-a' },
      evaluation: { metrics: { accuracy: 0.9 } },
    });
  });

  it("turns a candidate's failure into the CandidateFailed shape and trains the others", async () => {
    const diverged = Object.assign(new Error('loss is NaN'), { name: 'TrainingDiverged' });
    const { steps, calls } = recordingSteps(1, (step, name) =>
      step === 'evaluate' && name === 'b' ? diverged : undefined,
    );

    const results = await trainCandidates(planOf(['a', 'b', 'c']), 3, context, { steps, sleep: noWait });

    expect(results[1]).toEqual({
      status: 'failed',
      candidateId: 'b',
      error: 'TrainingDiverged',
      cause: 'loss is NaN',
    });
    expect(results.filter((r) => r.status === 'succeeded').map((r) => r.candidateId)).toEqual(['a', 'c']);
    expect(
      calls.filter((c) => c.step === 'log').map((c) => (c.input as LogCandidateRunInput).candidate.name),
    ).not.toContain('b');
  });

  it('retries an MLflow outage like the Map (3 retries, jittered backoff from 5 s), then fails the candidate', async () => {
    const outage = () => new MlflowUnavailableError('http://mlflow/api/2.0/mlflow/runs/create', 3);
    const waits: number[] = [];
    const flaky = recordingSteps(1, (step, name, attempt) =>
      step === 'train' && (name === 'down' || attempt <= 2) ? outage() : undefined,
    );

    const results = await trainCandidates(planOf(['recovers', 'down']), 1, context, {
      steps: flaky.steps,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    expect(results[0]).toMatchObject({ status: 'succeeded', candidateId: 'recovers' });
    expect(flaky.attempts.get('train:recovers')).toBe(3);
    expect(results[1]).toEqual({
      status: 'failed',
      candidateId: 'down',
      error: 'TransientStepError',
      cause: expect.stringContaining('http://mlflow/api/2.0/mlflow/runs/create'),
    });
    expect(flaky.attempts.get('train:down')).toBe(4);
    // 2 waits for `recovers`, 3 for `down`; each within the n-th backoff: 5 s, 10 s, 20 s.
    expect(waits).toHaveLength(5);
    [0, 1, 0, 1, 2].forEach((n, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(0);
      expect(waits[i]).toBeLessThanOrEqual(5000 * 2 ** n);
    });
  });

  it('does not retry a failure that is not transient', async () => {
    const { steps, attempts } = recordingSteps(1, (step) =>
      step === 'train' ? new StepInputError('dataset.manifest', 'no such object') : undefined,
    );
    const results = await trainCandidates(planOf(['a']), 1, context, { steps, sleep: noWait });
    expect(results).toEqual([
      {
        status: 'failed',
        candidateId: 'a',
        error: 'StepInputError',
        cause: 'dataset.manifest: no such object',
      },
    ]);
    expect(attempts.get('train:a')).toBe(1);
  });
});

describe('the plan and hyperparameters the container reads', () => {
  const where = 's3://curated/training-runs/t-1/plan.json';
  const written = { ...planOf(['a', 'b']), selection: { name: 'accuracy', higherIsBetter: true } };

  it('reads the plan PlanTraining writes', () => {
    expect(parsePlan(written, where)).toMatchObject({
      runId: 't-1',
      candidates: [candidate('a'), candidate('b')],
    });
  });

  it('names the missing or bad field of a malformed plan', () => {
    const { sageMakerResults: _, ...noResults } = written;
    expect(() => parsePlan(noResults, where)).toThrow(`${where} sageMakerResults:`);
    expect(() => parsePlan({ ...written, candidates: [] }, where)).toThrow(`${where} candidates:`);
    expect(() =>
      parsePlan({ ...written, candidates: [candidate('a'), { name: 'x', family: 'deep_net' }] }, where),
    ).toThrow(new RegExp(`^${where} candidates\\[1\\]: .*deep_net`));
    expect(() => parsePlan({ ...written, candidates: [candidate('a'), candidate('a')] }, where)).toThrow(
      `${where} candidates[1]: name "a" is used twice`,
    );
  });

  it('takes max_concurrency as SageMaker hands it over, a string', () => {
    expect(parseMaxConcurrency('4')).toBe(4);
    expect(parseMaxConcurrency(undefined)).toBe(1);
    expect(() => parseMaxConcurrency('0')).toThrow(
      "max_concurrency: must be a whole number of 1 or more (got '0')",
    );
    expect(() => parseMaxConcurrency('two')).toThrow(StepInputError);
  });

  it('names the hyperparameter that is missing or not a string', () => {
    const file = '/opt/ml/input/config/hyperparameters.json';
    expect(parseHyperparameters('{"plan_bucket":"c","plan_key":"k","max_concurrency":"2"}', file)).toEqual({
      plan_bucket: 'c',
      plan_key: 'k',
      max_concurrency: '2',
    });
    expect(() => parseHyperparameters('{"plan_bucket":"c"}', file)).toThrow(
      new TrainerInputError("hyperparameter 'plan_key' is required (got undefined)"),
    );
    expect(() =>
      parseHyperparameters('{"plan_bucket":"c","plan_key":"k","max_concurrency":2}', file),
    ).toThrow("hyperparameter 'max_concurrency' must be a non-empty string (got 2)");
    expect(() => parseHyperparameters('[]', file)).toThrow(`${file} must hold a JSON object`);
  });
});

describe("the local runner's training job emulation", () => {
  const request = (overrides: Record<string, unknown> = {}) => ({
    TrainingJobName: 'mlops-train-t-1',
    HyperParameters: {
      plan_bucket: 'curated',
      plan_key: 'training-runs/t-1/plan.json',
      max_concurrency: '2',
    },
    Environment: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', MODEL_NAME: 'iris-classifier' },
    ...overrides,
  });

  it('refuses what CreateTrainingJob refuses, as SageMaker.AmazonSageMakerException', () => {
    expect(parseTrainingJobRequest(request())).toMatchObject({ TrainingJobName: 'mlops-train-t-1' });
    expect(() => parseTrainingJobRequest(request({ HyperParameters: { max_concurrency: 2 } }))).toThrow(
      new TrainingJobRequestError(
        'ValidationException: HyperParameters.max_concurrency must be a string of at most 2500 characters (got 2)',
      ),
    );
    expect(() => parseTrainingJobRequest(request({ TrainingJobName: 'mlops_train' }))).toThrow(
      TrainingJobRequestError,
    );
    expect(new TrainingJobRequestError('x').name).toBe('SageMaker.AmazonSageMakerException');
  });

  it("fails the Task with States.TaskFailed and the trainer's failure file as the cause", async () => {
    const job = localTrainingJob({ env: {} });
    const { plan_key: _, ...noKey } = request().HyperParameters;
    await expect(job(request({ HyperParameters: noKey }))).rejects.toEqual(
      new TrainingJobFailedError("TrainerInputError: hyperparameter 'plan_key' is required (got undefined)"),
    );
  });

  it("gives the trainer the request's Environment, not the runner's settings", async () => {
    // The runner has every setting; the request lacks the buckets, so the trainer must fail on them.
    const runner = { LANDING_BUCKET: 'mlops-local-landing', DATASET_NAME: 'iris', AWS_REGION: 'us-east-1' };
    const job = localTrainingJob({ env: runner });
    await expect(job(request())).rejects.toMatchObject({
      name: 'States.TaskFailed',
      message: 'StepConfigError: LANDING_BUCKET is required: an S3 bucket name',
    });
  });
});

describe('the container retrier', () => {
  it("is the training Map tasks' TransientStepError retrier from the ASL file", () => {
    const asl = JSON.parse(readFileSync('stepfunctions/training-pipeline.asl.json', 'utf8'));
    const tasks = asl.States.TrainCandidates.ItemProcessor.States;
    for (const name of ['TrainCandidate', 'EvaluateCandidate', 'LogCandidateRun']) {
      const retrier = tasks[name].Retry.find((r: { ErrorEquals: string[] }) =>
        r.ErrorEquals.includes('TransientStepError'),
      );
      expect({
        maxAttempts: retrier.MaxAttempts,
        intervalSeconds: retrier.IntervalSeconds,
        backoffRate: retrier.BackoffRate,
      }).toEqual(TRANSIENT_RETRY);
    }
  });
});

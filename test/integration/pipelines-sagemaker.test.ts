/**
 * The training pipeline's SageMaker branch end to end: the ASL file run by the local runner with
 * the row threshold lowered so the 150 iris rows take `TrainOnSageMaker`, which the runner binds
 * to its emulation of the training job (the trainer container's entry, run in-process with the
 * job's hyperparameters file and Environment). Also the container entry as SageMaker starts it: a
 * child process, and the bundle docker/trainer/Dockerfile builds. Assertions read MLflow and S3.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import type {
  CandidateResult,
  PlanTrainingOutput,
  PublishDatasetOutput,
  RegisteredModel,
  SucceededCandidate,
} from '../../lambdas/steps/step-io';
import { createStepContext } from '../../lambdas/steps/support/step-context';
import { planTraining } from '../../lambdas/steps/tasks/plan-training';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { definitionFile, pipelineSubstitutions } from '../../lib/state-machine-substitutions';
import {
  LOCAL_DEFAULTS,
  localFunctionArn,
  localHandlers,
  localPipelineEnv,
  localSubstitutionInputs,
  runPipeline,
} from '../../localstack/runner/pipelines';
import { type RunnerEvent, runStateMachine } from '../../localstack/runner/state-machine-runner';

const run = promisify(execFile);
const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const DATASET = `iris-sm-${SUFFIX}`;
const MODEL = `sagemaker-${SUFFIX}`;
const EXPERIMENT = `sagemaker-${SUFFIX}`;
const env = { MODEL_NAME: MODEL, DATASET_NAME: DATASET, MLFLOW_EXPERIMENT_NAME: EXPERIMENT };
/** The 150 iris rows are over this: the pipeline takes the SageMaker branch. */
const settings = { sageMakerRowThreshold: 100, maxConcurrency: 2, promotion: 'challenger' } as const;
const CURATED = LOCAL_DEFAULTS.CURATED_BUCKET;

const s3 = new S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION,
  forcePathStyle: true,
});
const mlflow = MlflowClient.fromEnv();

async function objectJson<T>(bucket: string, key: string): Promise<T> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await object.Body?.transformToString()) ?? '') as T;
}

/** The candidates' MLflow runs of one pipeline run, by candidate name. */
async function candidateRuns(pipelineRun: string) {
  const experiment = await mlflow.getExperimentByName(EXPERIMENT);
  const { runs = [] } = await mlflow.searchRuns({
    experiment_ids: [experiment.experiment_id],
    filter: `tags."mlops.pipeline_run" = '${pipelineRun}'`,
  });
  return new Map(runs.map((r) => [r.data.tags.find((t) => t.key === 'mlops.candidate')?.value, r]));
}

let published: PublishDatasetOutput;

beforeAll(async () => {
  published = (await runPipeline(
    'data',
    { dataset: DATASET, source: { type: 'bundled', name: 'iris' } },
    { env },
  )) as unknown as PublishDatasetOutput;
}, 60_000);

afterAll(() => s3.destroy());

describe('training pipeline over the row threshold: one SageMaker job trains every candidate', () => {
  let output: { runId: string; best: SucceededCandidate; registered: RegisteredModel };
  const entered: string[] = [];

  beforeAll(async () => {
    output = (await runPipeline(
      'training',
      {
        dataset: { name: DATASET, version: published.dataset.version },
        candidates: [
          { name: 'logreg', family: 'logistic_regression' },
          { name: 'forest', family: 'random_forest', params: { n_estimators: 10, max_depth: 4 } },
        ],
      },
      { env, ...settings, onEvent: (e: RunnerEvent) => e.type === 'entered' && entered.push(e.state) },
    )) as unknown as typeof output;
  }, 120_000);

  it('takes TrainOnSageMaker and CollectSageMakerResults instead of the Lambda Map', () => {
    expect(published.dataset.rowCount).toBe(150);
    expect(entered).toEqual(expect.arrayContaining(['TrainOnSageMaker', 'CollectSageMakerResults']));
    expect(entered).not.toContain('TrainCandidates');
    expect(entered).not.toContain('TrainCandidate');
  });

  it('logs one finished MLflow run per candidate with holdout metrics and the ONNX model', async () => {
    const runs = await candidateRuns(output.runId);
    expect([...runs.keys()].sort()).toEqual(['forest', 'logreg']);
    for (const r of runs.values()) {
      expect(r.info.status).toBe('FINISHED');
      const metrics = Object.fromEntries(r.data.metrics.map((m) => [m.key, m.value]));
      expect(metrics.f1_macro).toBeGreaterThan(0.8);
      expect(metrics).toMatchObject({ train_rows: 120, test_rows: 30 });
      const tagged = Object.fromEntries(r.data.tags.map((t) => [t.key, t.value]));
      expect(tagged).toMatchObject({ 'mlflow.source.type': 'JOB', 'mlflow.user': 'training-pipeline' });
      const logged = await mlflow.getLoggedModel(r.outputs.model_outputs[0]?.model_id ?? '');
      expect(logged.info).toMatchObject({ source_run_id: r.info.run_id, status: 'LOGGED_MODEL_READY' });
      const files = await mlflow.listArtifactFiles(logged.info.artifact_uri);
      expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['MLmodel', 'model.onnx']));
    }
  });

  it("writes the CandidateResult[] to the plan's results object, one per candidate in plan order", async () => {
    const plan = await objectJson<PlanTrainingOutput>(CURATED, `training-runs/${output.runId}/plan.json`);
    expect(plan.sageMakerResults).toEqual({
      bucket: CURATED,
      key: `training-runs/${output.runId}/candidates.json`,
    });
    const results = await objectJson<CandidateResult[]>(CURATED, plan.sageMakerResults.key);
    const runs = await candidateRuns(output.runId);
    expect(results).toEqual([
      expect.objectContaining({
        status: 'succeeded',
        candidateId: 'logreg',
        algorithm: 'logistic_regression',
        mlflowRunId: runs.get('logreg')?.info.run_id,
        metrics: expect.objectContaining({ accuracy: expect.any(Number) }),
      }),
      expect.objectContaining({
        status: 'succeeded',
        candidateId: 'forest',
        mlflowRunId: runs.get('forest')?.info.run_id,
      }),
    ]);
  });

  it('registers the best candidate as version 1 and sets Challenger on it', async () => {
    const version = await mlflow.getModelVersion(MODEL, output.registered.version);
    expect(version.version).toBe('1');
    expect(version.run_id).toBe(output.best.mlflowRunId);
    const tags = Object.fromEntries(version.tags.map((t) => [t.key, t.value]));
    expect(tags['mlops.dataset.version']).toBe(published.dataset.version);
    expect((await mlflow.getModelVersionByAlias(MODEL, 'Challenger')).version).toBe('1');
  });
});

describe('training pipeline over the row threshold, when the job or every candidate fails', () => {
  it("fails with States.TaskFailed and the trainer's failure reason when the job cannot train the plan", async () => {
    // Prepare: the real steps, but the plan object is corrupted between PlanTraining and the job.
    const runEnv = localPipelineEnv(env);
    const context = createStepContext(runEnv);
    const handlers = localHandlers('training', context);
    const plan = handlers[localFunctionArn('plan-training')];
    if (!plan) throw new Error('plan-training is not bound');
    handlers[localFunctionArn('plan-training')] = async (input) => {
      const planned = (await plan(input)) as unknown as PlanTrainingOutput;
      const written = await objectJson<Record<string, unknown>>(planned.plan.bucket, planned.plan.key);
      const corrupt = { ...written, candidates: [{ name: 'logreg', family: 'deep_net' }] };
      await s3.send(
        new PutObjectCommand({
          Bucket: planned.plan.bucket,
          Key: planned.plan.key,
          Body: JSON.stringify(corrupt),
        }),
      );
      return planned as never;
    };

    // Act
    const execution = runStateMachine(definitionFile('training'), {
      substitutions: pipelineSubstitutions('training', localSubstitutionInputs(runEnv, settings)),
      handlers,
      input: { dataset: { name: DATASET, version: published.dataset.version } },
    }).finally(() => context.close());

    // Assess: the failure file's text is the cause, naming the plan and the field.
    await expect(execution).rejects.toMatchObject({
      cause: {
        name: 'States.TaskFailed',
        message: expect.stringMatching(
          /^StepInputError: s3:\/\/mlops-local-curated\/training-runs\/t-[a-z0-9-]+\/plan\.json candidates\[0\]: .*deep_net/,
        ),
      },
    });
  }, 60_000);

  it('still writes the results when every candidate fails, and SelectBest fails the run naming them', async () => {
    // `ridge` is a regressor: on iris (classification) it fails in training, as in the Lambda Map.
    const execution = runPipeline(
      'training',
      {
        dataset: { name: DATASET, version: published.dataset.version },
        candidates: [{ name: 'ridge-on-iris', family: 'ridge' }],
      },
      { env, ...settings },
    );

    await expect(execution).rejects.toMatchObject({
      cause: {
        name: 'NoCandidateSucceededError',
        message: expect.stringContaining(
          'ridge-on-iris: CandidateSpecError: family: ridge does not do classification',
        ),
      },
    });
    const experiment = await mlflow.getExperimentByName(EXPERIMENT);
    const { runs = [] } = await mlflow.searchRuns({
      experiment_ids: [experiment.experiment_id],
      filter: `tags."mlops.candidate" = 'ridge-on-iris'`,
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.info.status).toBe('FAILED');
    const pipelineRun = runs[0]?.data.tags.find((t) => t.key === 'mlops.pipeline_run')?.value;
    expect(await objectJson(CURATED, `training-runs/${pipelineRun}/candidates.json`)).toEqual([
      {
        status: 'failed',
        candidateId: 'ridge-on-iris',
        error: 'CandidateSpecError',
        cause: 'family: ridge does not do classification (it does regression)',
      },
    ]);
  }, 60_000);
});

/** A fresh SageMaker ML root with the given hyperparameters file. */
async function mlRoot(hyperparameters: Record<string, unknown>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sm-root-'));
  await mkdir(join(root, 'input', 'config'), { recursive: true });
  await writeFile(join(root, 'input', 'config', 'hyperparameters.json'), JSON.stringify(hyperparameters));
  return root;
}

/** Exit code and failure file of a finished trainer process. */
async function outcome(job: Promise<unknown>, root: string): Promise<{ code: number; failure: string }> {
  const code = await job.then(
    () => 0,
    (error: { code?: number }) => error.code ?? -1,
  );
  const failure = await readFile(join(root, 'output', 'failure'), 'utf8').catch(() => '');
  return { code, failure };
}

describe('the trainer container entry as SageMaker starts it', () => {
  it('exits 1 with a failure file naming the bad hyperparameter (npx tsx, SM_ML_ROOT)', async () => {
    const root = await mlRoot({
      plan_bucket: CURATED,
      plan_key: 'training-runs/x/plan.json',
      max_concurrency: '0',
    });
    const job = run('npx', ['tsx', 'lambdas/sagemaker-trainer/main.ts', 'train'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SM_ML_ROOT: root },
    });
    expect(await outcome(job, root)).toEqual({
      code: 1,
      failure: "StepInputError: max_concurrency: must be a whole number of 1 or more (got '0')",
    });
    await rm(root, { recursive: true, force: true });
  }, 30_000);

  describe('bundled as docker/trainer/Dockerfile builds it', () => {
    let build: string;

    beforeAll(async () => {
      // The build stage's esbuild RUN instruction, run verbatim in a context holding what the
      // Dockerfile copies (the packages `npm ci` installs are the project's node_modules).
      const dockerfile = await readFile(join(PROJECT_ROOT, 'docker/trainer/Dockerfile'), 'utf8');
      const instruction = dockerfile
        .replace(/\\\n/g, ' ')
        .split('\n')
        .find((line) => line.startsWith('RUN ') && line.includes('esbuild'));
      if (!instruction) throw new Error('no esbuild RUN instruction in docker/trainer/Dockerfile');
      build = await mkdtemp(join(tmpdir(), 'trainer-build-'));
      const context = [
        'package.json',
        'package-lock.json',
        '.npmrc',
        'tsconfig.json',
        'lambdas',
        'node_modules',
      ];
      for (const entry of context) await symlink(join(PROJECT_ROOT, entry), join(build, entry));
      await run('sh', ['-c', instruction.slice('RUN '.length)], { cwd: build, env: process.env });
      // The image holds dist/ alone: nothing may resolve from the build context at run time.
      for (const entry of context) await unlink(join(build, entry));
    }, 60_000);

    afterAll(() => rm(build, { recursive: true, force: true }));

    /** `node /opt/program/train.mjs train` as the image's ENTRYPOINT, with only the given environment. */
    const container = (root: string, environment: Record<string, string>) =>
      run(process.execPath, [join(build, 'dist', 'train.mjs'), 'train'], {
        cwd: join(build, 'dist'),
        env: {
          NODE_ENV: 'production',
          NODE_OPTIONS: '--enable-source-maps',
          SM_ML_ROOT: root,
          ...environment,
        },
      });

    it('exits 1 with a failure file naming the missing hyperparameter', async () => {
      const root = await mlRoot({ plan_bucket: CURATED });
      expect(await outcome(container(root, {}), root)).toEqual({
        code: 1,
        failure: "TrainerInputError: hyperparameter 'plan_key' is required (got undefined)",
      });
      await rm(root, { recursive: true, force: true });
    });

    it('trains a plan against MLflow and S3, onnxruntime-node loaded from the bundle', async () => {
      // Prepare: a plan written by the real PlanTraining step.
      const context = createStepContext(localPipelineEnv(env));
      const plan = await planTraining(
        {
          request: {
            dataset: { name: DATASET, version: published.dataset.version },
            candidates: [{ name: 'bundled-logreg', family: 'logistic_regression' }],
          },
        },
        context,
      ).finally(() => context.close());
      const root = await mlRoot({
        plan_bucket: plan.plan.bucket,
        plan_key: plan.plan.key,
        max_concurrency: '1',
      });

      // Act: the environment the ASL file gives the job, plus the access SageMaker's role would.
      const lake = localPipelineEnv(env);
      const job = container(root, {
        MLFLOW_TRACKING_URI: process.env.MLFLOW_TRACKING_URI as string,
        MLFLOW_TRACKING_USERNAME: process.env.MLFLOW_TRACKING_USERNAME as string,
        MLFLOW_EXPERIMENT_NAME: plan.experimentName,
        MODEL_NAME: MODEL,
        DATASET_NAME: DATASET,
        ...Object.fromEntries(
          [
            'LANDING_BUCKET',
            'CURATED_BUCKET',
            'QUARANTINE_BUCKET',
            'PREDICTIONS_BUCKET',
            'MONITORING_BUCKET',
          ].map((name) => [name, lake[name] as string]),
        ),
        ...Object.fromEntries(
          // MLFLOW_TRACKING_PASSWORD: the stand-in for the secret the role reads on AWS.
          ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'MLFLOW_TRACKING_PASSWORD'].map(
            (name) => [name, process.env[name] as string],
          ),
        ),
        TRAINING_JOB_ARN: `arn:aws:sagemaker:${process.env.AWS_REGION}:000000000000:training-job/mlops-train-${plan.runId}`,
      });

      // Assess
      expect(await outcome(job, root)).toEqual({ code: 0, failure: '' });
      const [result] = await objectJson<CandidateResult[]>(
        plan.sageMakerResults.bucket,
        plan.sageMakerResults.key,
      );
      expect(result).toMatchObject({ status: 'succeeded', candidateId: 'bundled-logreg' });
      const runs = await candidateRuns(plan.runId);
      expect(runs.get('bundled-logreg')?.info).toMatchObject({
        status: 'FINISHED',
        run_id: (result as SucceededCandidate).mlflowRunId,
      });
      await rm(root, { recursive: true, force: true });
    }, 60_000);
  });
});

/**
 * The ASL files in stepfunctions/: valid ASL, fully bound by the substitution map CDK uses, every
 * Task retried and caught, and — run by aws-local-stepfunctions with the steps stubbed at the
 * project's own step interface — taking the branches they are meant to take. No synth here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it, vi } from 'vitest';
import { mlflowClientOptionsFromEnv } from '../../lambdas/core/mlflow';
import { handlerModule, STEP_CATALOGUE, STEP_NAMES, taskModule } from '../../lambdas/steps/catalogue';
import { stepConfigFrom } from '../../lambdas/steps/support/step-config';
import { TransientStepError } from '../../lambdas/steps/support/step-errors';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { statesWithoutTimeout } from '../../lib/pipeline-state-machine';
import {
  applySubstitutions,
  definitionFile,
  loadDefinition,
  PIPELINE_NAMES,
  PIPELINE_STEPS,
  type PipelineName,
  pipelineSubstitutions,
  placeholdersIn,
  type StepName,
  type SubstitutionInputs,
} from '../../lib/state-machine-substitutions';

type JsonValue = Parameters<StateMachine['run']>[0];
type Handler = (input: JsonValue) => Promise<JsonValue>;
type Json = Record<string, unknown>;

const localArn = (step: string) => `arn:aws:lambda:us-east-1:000000000000:function:mlops-local-${step}`;

/** What a local runner would bind: local ARNs and the dev stage's settings. */
function localInputs(
  overrides: {
    promotion?: 'none' | 'challenger' | 'production';
    retrainOnDrift?: boolean;
    sageMakerRowThreshold?: number;
  } = {},
): SubstitutionInputs {
  const steps = Object.values(PIPELINE_STEPS).flat() as StepName[];
  return {
    functionArns: Object.fromEntries(steps.map((s) => [s, localArn(s)])) as Record<StepName, string>,
    training: {
      sageMakerRowThreshold: overrides.sageMakerRowThreshold ?? 200_000,
      maxConcurrency: 2,
      promotion: overrides.promotion ?? 'challenger',
      modelName: 'iris-classifier',
      datasetName: 'iris',
      mlflowTrackingUri: 'http://127.0.0.1:5000',
      mlflowUsername: 'pipelines',
      mlflowPasswordSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mlflow-pipelines-AbCdEf',
      buckets: {
        landing: 'mlops-local-landing',
        curated: 'mlops-local-curated',
        quarantine: 'mlops-local-quarantine',
        predictions: 'mlops-local-predictions',
        monitoring: 'mlops-local-monitoring',
      },
      trainerImageUri: '000000000000.dkr.ecr.us-east-1.amazonaws.com/mlops-trainer:local',
      sageMakerRoleArn: 'arn:aws:iam::000000000000:role/mlops-local-sagemaker',
      sageMakerInstanceType: 'ml.m5.xlarge',
      sageMakerSecurityGroupId: 'sg-0123456789abcdef0',
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
    },
    inference: { inlineObjectLimit: 100 },
    monitoring: {
      driftThreshold: 0.2,
      retrainOnDrift: overrides.retrainOnDrift ?? false,
      trainingStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlops-local-training',
    },
  };
}

const EXECUTION_ID = 'arn:aws:states:us-east-1:000000000000:execution:local:1';
const STATE_MACHINE_ID = 'arn:aws:states:us-east-1:000000000000:stateMachine:local';

function run(
  pipeline: PipelineName,
  handlers: Record<string, Handler>,
  input: JsonValue,
  inputs = localInputs(),
) {
  const definition = loadDefinition(pipeline, pipelineSubstitutions(pipeline, inputs));
  const machine = new StateMachine(definition as ConstructorParameters<typeof StateMachine>[0]);
  // The training guard lists RUNNING executions: by default only this one, so the run goes ahead.
  const guard: Record<string, Handler> =
    pipeline === 'training'
      ? { FindRunningExecutions: answer({ Executions: [{ ExecutionArn: EXECUTION_ID }] }) }
      : {};
  return machine.run(input, {
    overrides: { taskResourceLocalHandlers: { ...guard, ...handlers } },
    context: {
      Execution: { Id: EXECUTION_ID, Input: input as never },
      StateMachine: { Id: STATE_MACHINE_ID },
    } as never,
  }).result;
}

/** The inputs each stubbed step was called with, by step. */
class Calls {
  private readonly byStep = new Map<string, Json[]>();

  of(step: string): Json[] {
    const list = this.byStep.get(step) ?? [];
    this.byStep.set(step, list);
    return list;
  }

  /** A step handler that records its input and answers with the given value. */
  stub(step: string, answer: unknown): Handler {
    const list = this.of(step);
    return async (input) => {
      list.push(input as Json);
      return answer as JsonValue;
    };
  }
}

/** A step handler that answers with the given value. */
const answer =
  (value: unknown): Handler =>
  async () =>
    value as JsonValue;

/** Every state of a definition, nested Map processors and Parallel branches included. */
function allStates(definition: Json): [string, Json][] {
  const states = Object.entries(definition.States as Record<string, Json>);
  return states.flatMap(([name, state]) => [
    [name, state] as [string, Json],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor as Json) : []),
    ...(state.Iterator ? allStates(state.Iterator as Json) : []),
    ...((state.Branches as Json[] | undefined) ?? []).flatMap(allStates),
  ]);
}

const ptr = (key: string) => ({ bucket: 'mlops-local-curated', key });

describe('state machine definitions', () => {
  it.each(PIPELINE_NAMES)(
    '%s: is valid ASL with the local substitutions bound (ARNs and paths checked)',
    (pipeline) => {
      const definition = loadDefinition(pipeline, pipelineSubstitutions(pipeline, localInputs()));
      const result = aslValidator(definition, { checkArn: true, checkPaths: true });
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    },
  );

  it.each(PIPELINE_NAMES)('%s: uses exactly the placeholders its substitution map binds', (pipeline) => {
    const text = readFileSync(definitionFile(pipeline), 'utf8');
    expect(placeholdersIn(text)).toEqual(Object.keys(pipelineSubstitutions(pipeline, localInputs())).sort());
    expect(() => applySubstitutions(text, {})).toThrow(/no substitution for \$\{/);
  });

  it.each(PIPELINE_NAMES)('%s: retries and catches every Task, and calls Lambda by plain ARN', (pipeline) => {
    const definition = loadDefinition(pipeline, pipelineSubstitutions(pipeline, localInputs())) as Json;
    const tasks = allStates(definition).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [name, task] of tasks) {
      expect(task.Retry, name).toEqual(
        expect.arrayContaining([expect.objectContaining({ MaxAttempts: expect.any(Number) })]),
      );
      expect(task.Catch, name).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], ResultPath: '$.error' }),
      ]);
      if (String(task.Resource).startsWith('arn:aws:lambda:')) {
        const retried = (task.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
        expect(retried, name).toEqual(
          expect.arrayContaining([
            'Lambda.ServiceException',
            'Lambda.TooManyRequestsException',
            new TransientStepError().name,
          ]),
        );
      }
    }
    expect(JSON.stringify(definition)).not.toContain('arn:aws:states:::lambda:invoke');
    const resources = tasks.map(([, t]) => t.Resource);
    for (const step of PIPELINE_STEPS[pipeline]) expect(resources).toContain(localArn(step));
  });

  it.each(PIPELINE_NAMES)(
    '%s: ends every caught failure in a Fail state that reports the error and cause',
    (pipeline) => {
      const definition = loadDefinition(pipeline, pipelineSubstitutions(pipeline, localInputs())) as Json;
      const states = new Map(allStates(definition));
      const catchTargets = [...states.values()].flatMap((s) =>
        ((s.Catch as { Next: string }[]) ?? []).map((c) => c.Next),
      );
      for (const target of catchTargets) {
        const state = states.get(target);
        if (state?.Type === 'Pass') continue; // CandidateFailed: a failed candidate is a result, not a failure
        expect(state, target).toMatchObject({
          Type: 'Fail',
          ErrorPath: '$.error.Error',
          CausePath: '$.error.Cause',
        });
      }
    },
  );

  it('sends large datasets to a SageMaker training job and large inputs to a Distributed Map over S3', () => {
    const training = allStates(
      loadDefinition('training', pipelineSubstitutions('training', localInputs())) as Json,
    );
    expect(Object.fromEntries(training).TrainOnSageMaker).toMatchObject({
      Resource: 'arn:aws:states:::sagemaker:createTrainingJob.sync',
      Parameters: { AlgorithmSpecification: { TrainingImage: localInputs().training.trainerImageUri } },
    });
    const inference = Object.fromEntries(
      allStates(loadDefinition('inference', pipelineSubstitutions('inference', localInputs())) as Json),
    );
    expect(inference.ScoreDistributed).toMatchObject({
      ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2' },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject' },
      ResultPath: null,
    });
    const monitoring = Object.fromEntries(
      allStates(loadDefinition('monitoring', pipelineSubstitutions('monitoring', localInputs())) as Json),
    );
    expect(monitoring.StartRetraining).toMatchObject({ Resource: 'arn:aws:states:::states:startExecution' });
  });

  it('has, for every catalogue step, a handler module exporting `handler` wired to the core, and its task', async () => {
    // A wired step refuses an empty input (or a missing environment) with a typed error naming
    // the field.
    vi.stubEnv('LANDING_BUCKET', '');
    for (const step of STEP_NAMES) {
      const file = join(PROJECT_ROOT, handlerModule(step));
      expect(existsSync(file), file).toBe(true);
      const module = (await import(file)) as { handler: (input: unknown) => Promise<unknown> };
      const error = await module.handler({}).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(['StepConfigError', 'StepInputError'], step).toContain(error?.name);
      // What the local runner imports and calls.
      const task = taskModule(step);
      const tasks = (await import(join(PROJECT_ROOT, task.path))) as Record<string, unknown>;
      expect(typeof tasks[task.exportName], `${task.path}: ${task.exportName}`).toBe('function');
    }
    vi.unstubAllEnvs();
  });
});

describe('time limits', () => {
  const stepOfArn = new Map(STEP_NAMES.map((step) => [localArn(step), step]));

  it.each(PIPELINE_NAMES)(
    '%s: every Task outlasts what it waits for, and the machine fits them all',
    (pipeline) => {
      const definition = loadDefinition(pipeline, pipelineSubstitutions(pipeline, localInputs())) as Json;
      const tasks = allStates(definition).filter(([, s]) => s.Type === 'Task');
      let sum = 0;
      for (const [name, task] of tasks) {
        const timeout = task.TimeoutSeconds as number;
        expect(Number.isInteger(timeout), `${pipeline} Task ${name} TimeoutSeconds`).toBe(true);
        sum += timeout;
        const step = stepOfArn.get(task.Resource as string);
        if (step) {
          // A Lambda Task waits for one invocation: the function's own timeout and a margin to start it.
          const functionTimeout = STEP_CATALOGUE[step].timeoutSeconds;
          expect(timeout, `${pipeline} Task ${name} (${step})`).toBeGreaterThan(functionTimeout);
          expect(timeout, `${pipeline} Task ${name} (${step})`).toBeLessThanOrEqual(functionTimeout + 120);
        } else if (String(task.Resource).includes('createTrainingJob.sync')) {
          const stopping = (task.Parameters as { StoppingCondition: { MaxRuntimeInSeconds: number } })
            .StoppingCondition.MaxRuntimeInSeconds;
          // Provisioning, the image pull and the output upload come on top of the job's own runtime.
          expect(timeout, `${pipeline} Task ${name}`).toBeGreaterThan(stopping);
          expect(timeout, `${pipeline} Task ${name}`).toBeLessThanOrEqual(stopping + 3600);
        } else {
          // Service calls that return at once (startExecution, listExecutions).
          expect(timeout, `${pipeline} Task ${name}`).toBeLessThanOrEqual(120);
        }
      }
      // One attempt of every Task, run one after the other, fits in the machine's own limit.
      expect(definition.TimeoutSeconds as number).toBeGreaterThanOrEqual(sum);
    },
  );

  it('names the state machine and each Task that has no TimeoutSeconds', () => {
    const text = JSON.stringify({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'a', Next: 'M' },
        M: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'B',
            States: { B: { Type: 'Task', Resource: 'x', TimeoutSeconds: 5, End: true } },
          },
          Next: 'P',
        },
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'C', States: { C: { Type: 'Task', Resource: 'y', End: true } } }],
          End: true,
        },
      },
    });
    expect(statesWithoutTimeout(text)).toEqual(['the state machine', 'Task A', 'Task C']);
    for (const pipeline of PIPELINE_NAMES) {
      expect(statesWithoutTimeout(readFileSync(definitionFile(pipeline), 'utf8'))).toEqual([]);
    }
  });
});

describe('data pipeline, run locally', () => {
  const dataHandlers = (validRows: number, rejectedRows: number, calls: Calls) => ({
    IngestData: calls.stub('ingest', {
      runId: 'r1',
      raw: ptr('work/r1/raw.csv'),
      rowCount: 150,
      source: 's3://mlops-local-landing/landing/iris/2025-06-01/',
      batch: {
        prefix: 's3://mlops-local-landing/landing/iris/2025-06-01/',
        landedAt: '2025-06-01T06:00:00.000Z',
      },
    }),
    ValidateData: calls.stub('validate', {
      valid: ptr('work/r1/valid.csv'),
      rejected: rejectedRows > 0 ? ptr('work/r1/rejected.csv') : null,
      validRows,
      rejectedRows,
      contract: { name: 'iris', version: '1' },
    }),
    QuarantineRows: calls.stub('quarantine', {
      quarantined: { bucket: 'q', key: 'quarantine/iris/r1/rows.csv' },
      rows: rejectedRows,
      reasons: { missing_value: rejectedRows },
    }),
    SplitDataset: calls.stub('split', {
      train: ptr('work/r1/train.csv'),
      test: ptr('work/r1/test.csv'),
      reference: ptr('work/r1/reference.csv'),
      rows: { train: 100, test: 30, reference: 17 },
    }),
    PublishDataset: calls.stub('publish', {
      dataset: { name: 'iris', version: 'sha256-1a2b' },
      created: true,
    }),
  });

  it('quarantines the rejected rows and publishes the rest', async () => {
    const calls = new Calls();
    const output = await run('data', dataHandlers(147, 3, calls), {
      dataset: 'iris',
      source: { type: 'bundled', name: 'iris' },
    });
    expect(output).toEqual({ dataset: { name: 'iris', version: 'sha256-1a2b' }, created: true });
    expect(calls.of('quarantine')).toEqual([
      {
        dataset: 'iris',
        runId: 'r1',
        rejected: ptr('work/r1/rejected.csv'),
        contract: { name: 'iris', version: '1' },
      },
    ]);
    expect(calls.of('publish')[0]).toMatchObject({
      runId: 'r1',
      source: 's3://mlops-local-landing/landing/iris/2025-06-01/',
      batch: {
        prefix: 's3://mlops-local-landing/landing/iris/2025-06-01/',
        landedAt: '2025-06-01T06:00:00.000Z',
      },
      split: { rows: { train: 100 } },
    });
  });

  it('skips quarantine when every row is valid', async () => {
    const calls = new Calls();
    await run('data', dataHandlers(150, 0, calls), {
      dataset: 'iris',
      source: { type: 's3', prefix: 'landing/iris/' },
    });
    expect(calls.of('quarantine')).toEqual([]);
    expect(calls.of('split')).toHaveLength(1);
  });

  it('fails with NoValidRows when every row broke the contract', async () => {
    const calls = new Calls();
    const result = run('data', dataHandlers(0, 150, calls), {
      dataset: 'iris',
      source: { type: 'bundled', name: 'iris' },
    });
    await expect(result).rejects.toMatchObject({ cause: { name: 'NoValidRows' } });
    expect(calls.of('quarantine')).toHaveLength(1);
    expect(calls.of('split')).toEqual([]);
  });

  it('ends in PipelineFailed with the step error as the cause when a step cannot start', async () => {
    // The real handler, without its environment: the config error names the missing variable.
    vi.stubEnv('LANDING_BUCKET', '');
    const { handler } = await import('../../lambdas/steps/handlers/ingest-data');
    const result = run(
      'data',
      { IngestData: (input) => handler(input as never) as never },
      { dataset: 'iris', source: { type: 'bundled', name: 'iris' } },
    );
    await expect(result).rejects.toMatchObject({
      cause: {
        name: 'StepConfigError',
        message: 'LANDING_BUCKET is required: an S3 bucket name',
      },
    });
    vi.unstubAllEnvs();
  });
});

describe('training pipeline, run locally', () => {
  const dataset = {
    name: 'iris',
    version: 'sha256-1a2b',
    rowCount: 150,
    test: ptr('datasets/iris/sha256-1a2b/test.csv'),
  };
  const candidates = [
    { name: 'logreg', family: 'logistic_regression', params: { c: 1 } },
    { name: 'tree', family: 'random_forest', params: { max_depth: 3 } },
  ];
  const handlers = (calls: Calls): Record<string, Handler> => ({
    PlanTraining: calls.stub('plan', {
      runId: 't1',
      experimentName: 'iris-classifier',
      dataset,
      candidates,
      selection: { name: 'accuracy', higherIsBetter: true },
      plan: ptr('training-runs/t1/plan.json'),
      sageMakerResults: ptr('training-runs/t1/candidates.json'),
      fingerprint: 'tf1-0123',
      reuse: null,
    }),
    TrainCandidate: async (input) => {
      const { candidate } = input as { candidate: { name: string } };
      if (candidate.name === 'tree')
        throw Object.assign(new Error('loss is NaN'), { name: 'TrainingDiverged' });
      return {
        model: { bucket: 'c', prefix: `training-runs/t1/${candidate.name}/model/` },
        trainingSeconds: 2,
        mlflowRunId: 'run-1',
      };
    },
    EvaluateCandidate: calls.stub('evaluate', {
      metrics: { accuracy: 0.96 },
      report: ptr('training-runs/t1/logreg/report.json'),
    }),
    LogCandidateRun: async (input) => {
      const { candidate } = input as { candidate: { name: string; family: string } };
      return {
        status: 'succeeded',
        candidateId: candidate.name,
        algorithm: candidate.family,
        mlflowRunId: 'run-1',
        modelUri: 'runs:/run-1/model',
        metrics: { accuracy: 0.96 },
      };
    },
    SelectBest: async (input) => {
      calls.of('select').push(input as Json);
      const best = (input as { candidates: Json[] }).candidates.find(
        (c) => c.status === 'succeeded',
      ) as JsonValue;
      return { best, ranking: [{ candidateId: 'logreg', value: 0.96 }], failed: 1 };
    },
    RegisterModel: calls.stub('register', {
      name: 'iris-classifier',
      version: '3',
      mlflowRunId: 'run-1',
      source: 'models:/m-1',
      reused: false,
    }),
    PromoteModel: calls.stub('promote', {
      alias: 'Challenger',
      promotedToProduction: false,
      candidateScore: 0.96,
      productionVersion: null,
      productionScore: null,
      reason: 'challenger mode',
    }),
  });

  it('trains candidates in a Map, keeps going past a failed one, registers the best and sets Challenger', async () => {
    const calls = new Calls();
    const output = (await run('training', handlers(calls), { reason: 'manual' })) as Json;
    expect(calls.of('plan')).toEqual([{ request: { reason: 'manual' } }]);
    expect(calls.of('select')[0]?.candidates).toEqual([
      expect.objectContaining({ status: 'succeeded', candidateId: 'logreg' }),
      { status: 'failed', candidateId: 'tree', error: 'TrainingDiverged', cause: 'loss is NaN' },
    ]);
    expect(calls.of('register')[0]).toMatchObject({
      runId: 't1',
      best: { candidateId: 'logreg' },
      dataset,
      fingerprint: 'tf1-0123',
    });
    expect(calls.of('promote')).toEqual([
      {
        mode: 'challenger',
        model: {
          name: 'iris-classifier',
          version: '3',
          mlflowRunId: 'run-1',
          source: 'models:/m-1',
          reused: false,
        },
        holdout: dataset.test,
        dataset,
        selection: { name: 'accuracy', higherIsBetter: true },
      },
    ]);
    expect(output).toMatchObject({
      runId: 't1',
      registered: { version: '3' },
      best: { candidateId: 'logreg' },
    });
  });

  it('ends as skipped, without planning, while an older execution of the same machine runs', async () => {
    const calls = new Calls();
    const older = 'arn:aws:states:us-east-1:000000000000:execution:local:0';
    const output = await run(
      'training',
      {
        ...handlers(calls),
        // Newest first, as ListExecutions answers: this execution, then the older one.
        FindRunningExecutions: calls.stub('list', {
          Executions: [{ ExecutionArn: EXECUTION_ID }, { ExecutionArn: older }],
        }),
      },
      { reason: 'schedule' },
    );
    expect(calls.of('list')).toEqual([
      { StateMachineArn: STATE_MACHINE_ID, StatusFilter: 'RUNNING', MaxResults: 100 },
    ]);
    expect(output).toEqual({
      status: 'skipped',
      reason: 'another training execution of this state machine is running',
      runningExecution: older,
    });
    expect(calls.of('plan')).toEqual([]);
  });

  it('goes ahead when it is the oldest running execution, or when the list does not show it yet', async () => {
    const newer = 'arn:aws:states:us-east-1:000000000000:execution:local:2';
    for (const executions of [[{ ExecutionArn: newer }, { ExecutionArn: EXECUTION_ID }], []]) {
      const calls = new Calls();
      const output = (await run(
        'training',
        {
          ...handlers(calls),
          FindRunningExecutions: answer({ Executions: executions }),
        },
        {},
      )) as Json;
      expect(calls.of('plan')).toHaveLength(1);
      expect(output).toMatchObject({ registered: { version: '3' } });
    }
  });

  it('reuses the version an earlier run registered for the same input: no training, no registration, promotion again', async () => {
    const calls = new Calls();
    const best = {
      status: 'succeeded',
      candidateId: 'logreg',
      algorithm: 'logistic_regression',
      mlflowRunId: 'run-0',
      modelUri: 'models:/m-0',
      metrics: { accuracy: 0.97 },
    };
    const registered = {
      name: 'iris-classifier',
      version: '2',
      mlflowRunId: 'run-0',
      source: 'models:/m-0',
      reused: true,
    };
    const base = handlers(calls);
    const output = (await run(
      'training',
      {
        ...base,
        PlanTraining: async (input) => {
          const planned = (await (base.PlanTraining as Handler)(input)) as Json;
          return { ...planned, reuse: { registered, best } } as JsonValue;
        },
        TrainCandidate: calls.stub('train', {}),
      },
      {},
    )) as Json;
    expect(calls.of('train')).toEqual([]);
    expect(calls.of('register')).toEqual([]);
    expect(calls.of('promote')).toEqual([expect.objectContaining({ mode: 'challenger', model: registered })]);
    expect(output).toEqual({
      runId: 't1',
      dataset,
      best,
      ranking: [],
      registered,
      fingerprint: 'tf1-0123',
      reused: true,
    });
  });

  it('registers without promoting when promotion is none', async () => {
    const calls = new Calls();
    await run('training', handlers(calls), {}, localInputs({ promotion: 'none' }));
    expect(calls.of('register')).toHaveLength(1);
    expect(calls.of('promote')).toEqual([]);
  });

  it('trains a dataset over the row threshold in one SageMaker job and reads its results file', async () => {
    const calls = new Calls();
    const results = [
      {
        status: 'succeeded',
        candidateId: 'logreg',
        algorithm: 'logistic_regression',
        mlflowRunId: 'run-1',
        modelUri: 'runs:/run-1/model',
        metrics: { accuracy: 0.96 },
      },
      { status: 'failed', candidateId: 'tree', error: 'TrainingDiverged', cause: 'loss is NaN' },
    ];
    const output = (await run(
      'training',
      {
        ...handlers(calls),
        TrainCandidate: calls.stub('map', {}),
        TrainOnSageMaker: calls.stub('sagemaker', {
          TrainingJobName: 'mlops-train-t1',
          TrainingJobStatus: 'Completed',
        }),
        CollectSageMakerResults: calls.stub('collect', results),
      },
      {},
      localInputs({ sageMakerRowThreshold: 100 }),
    )) as Json;
    expect(calls.of('map')).toEqual([]);
    const [job] = calls.of('sagemaker');
    expect(job).toMatchObject({
      TrainingJobName: 'mlops-train-t1',
      AlgorithmSpecification: { TrainingImage: localInputs().training.trainerImageUri },
      // SageMaker takes string values only.
      HyperParameters: {
        plan_bucket: 'mlops-local-curated',
        plan_key: 'training-runs/t1/plan.json',
        max_concurrency: '2',
      },
      VpcConfig: { SecurityGroupIds: ['sg-0123456789abcdef0'] },
    });
    expect(calls.of('collect')).toEqual([{ runId: 't1', results: ptr('training-runs/t1/candidates.json') }]);
    expect(calls.of('select')[0]?.candidates).toEqual(results);
    expect(output).toMatchObject({ best: { candidateId: 'logreg' }, registered: { version: '3' } });
  });

  it("gives the training job the environment the steps' config and the MLflow client read", async () => {
    const calls = new Calls();
    await run(
      'training',
      {
        ...handlers(calls),
        TrainOnSageMaker: calls.stub('sagemaker', { TrainingJobName: 'j', TrainingJobStatus: 'Completed' }),
        CollectSageMakerResults: answer([]),
        SelectBest: answer({ best: {}, ranking: [], failed: 0 }),
      },
      {},
      localInputs({ promotion: 'none', sageMakerRowThreshold: 100 }),
    );
    const environment = calls.of('sagemaker')[0]?.Environment as Record<string, string>;
    expect(environment).toEqual({
      MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000',
      MLFLOW_TRACKING_USERNAME: 'pipelines',
      MLFLOW_TRACKING_PASSWORD_SECRET_ARN:
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:mlflow-pipelines-AbCdEf',
      MLFLOW_EXPERIMENT_NAME: 'iris-classifier',
      MODEL_NAME: 'iris-classifier',
      DATASET_NAME: 'iris',
      LANDING_BUCKET: 'mlops-local-landing',
      CURATED_BUCKET: 'mlops-local-curated',
      QUARANTINE_BUCKET: 'mlops-local-quarantine',
      PREDICTIONS_BUCKET: 'mlops-local-predictions',
      MONITORING_BUCKET: 'mlops-local-monitoring',
    });
    // The container parses exactly this (AWS_REGION comes from SageMaker).
    expect(stepConfigFrom(environment)).toMatchObject({
      buckets: { curated: 'mlops-local-curated' },
      datasetName: 'iris',
      experimentName: 'iris-classifier',
    });
    // At start the container puts the secret's password beside the user (secret-password.ts).
    const started = { ...environment, MLFLOW_TRACKING_PASSWORD: 'from-the-secret' };
    expect(mlflowClientOptionsFromEnv(started)).toMatchObject({
      trackingUri: 'http://127.0.0.1:5000',
      auth: { type: 'basic', username: 'pipelines', password: 'from-the-secret' },
    });
  });

  it('ends in PipelineFailed with the failed job as the cause', async () => {
    const failed = Object.assign(
      new Error('StepInputError: s3://c/plan.json candidates[0]: unknown family'),
      {
        name: 'States.TaskFailed',
      },
    );
    const result = run(
      'training',
      {
        ...handlers(new Calls()),
        TrainOnSageMaker: async () => {
          throw failed;
        },
      },
      {},
      localInputs({ sageMakerRowThreshold: 100 }),
    );
    await expect(result).rejects.toMatchObject({
      cause: { name: 'States.TaskFailed', message: failed.message },
    });
  });
});

describe('inference pipeline, run locally', () => {
  const plan = (objectCount: number) => ({
    runId: 'i1',
    input: { bucket: 'mlops-local-landing', prefix: 'landing/iris/2025-06-01/' },
    objectCount,
    objects: Array.from({ length: objectCount }, (_, i) => ({
      Key: `landing/iris/2025-06-01/part-${i}.csv`,
    })),
    output: { bucket: 'mlops-local-predictions', prefix: 'predictions/i1/' },
    models: {
      production: { name: 'iris-classifier', version: '2', alias: 'Production', mlflowRunId: 'run-0' },
      challenger: { name: 'iris-classifier', version: '3', alias: 'Challenger', mlflowRunId: 'run-1' },
    },
  });

  it('scores each small-input object inline with both models, then compares', async () => {
    const calls = new Calls();
    const output = await run(
      'inference',
      {
        PlanInference: calls.stub('plan', plan(2)),
        PredictBatchInline: calls.stub('predict', { rows: 10 }),
        ComparePredictions: calls.stub('compare', {
          mlflowRunId: 'run-9',
          objects: 2,
          rows: 20,
          agreementRate: 0.95,
        }),
      },
      {},
    );
    expect(calls.of('plan')).toEqual([{ request: {}, inlineObjectLimit: 100 }]);
    expect(
      calls
        .of('predict')
        .map((c) => (c.object as Json).key)
        .sort(),
    ).toEqual(['landing/iris/2025-06-01/part-0.csv', 'landing/iris/2025-06-01/part-1.csv']);
    expect(calls.of('predict')[0]).toMatchObject({
      runId: 'i1',
      object: { bucket: 'mlops-local-landing' },
      output: { prefix: 'predictions/i1/' },
      models: { challenger: { version: '3' } },
    });
    expect(calls.of('compare')).toEqual([{ runId: 'i1', output: plan(2).output, models: plan(2).models }]);
    expect(output).toMatchObject({ runId: 'i1', comparison: { agreementRate: 0.95 } });
  });

  it('succeeds without scoring when there is no new data', async () => {
    const calls = new Calls();
    await run(
      'inference',
      {
        PlanInference: answer(plan(0)),
        PredictBatchInline: calls.stub('predict', {}),
        ComparePredictions: calls.stub('compare', {}),
      },
      {},
    );
    expect(calls.of('predict')).toEqual([]);
    expect(calls.of('compare')).toEqual([]);
  });
});

describe('monitoring pipeline, run locally', () => {
  const drift = {
    runId: 'm1',
    timestamp: '2025-06-01T02:30:00Z',
    modelName: 'iris-classifier',
    modelVersion: '2',
    metric: 'share_of_drifted_features',
    value: 0.5,
    threshold: 0.2,
    drifted: true,
    driftedColumns: ['petal_length', 'petal_width'],
    report: { bucket: 'mlops-local-monitoring', key: 'drift/m1/report.json' },
  };

  it('passes the configured threshold to the drift step and alerts without retraining by default', async () => {
    const calls = new Calls();
    const output = await run(
      'monitoring',
      {
        ComputeDrift: calls.stub('drift', drift),
        SendDriftAlert: calls.stub('alert', {
          decision: 'breach',
          messageId: 'msg-1',
          episodeSince: drift.timestamp,
        }),
        StartRetraining: calls.stub('retrain', { ExecutionArn: 'arn:exec' }),
      },
      { dataset: { name: 'iris' } },
    );
    expect(calls.of('drift')).toEqual([{ request: { dataset: { name: 'iris' } }, threshold: 0.2 }]);
    expect(calls.of('alert')).toEqual([{ drift }]);
    expect(calls.of('retrain')).toEqual([]);
    expect(output).toMatchObject({ alert: { decision: 'breach' } });
  });

  it('starts the training pipeline on a new breach when retrainOnDrift is on', async () => {
    const calls = new Calls();
    await run(
      'monitoring',
      {
        ComputeDrift: answer(drift),
        SendDriftAlert: answer({ decision: 'breach', messageId: 'msg-1', episodeSince: drift.timestamp }),
        StartRetraining: calls.stub('retrain', { ExecutionArn: 'arn:exec' }),
      },
      {},
      localInputs({ retrainOnDrift: true }),
    );
    expect(calls.of('retrain')).toEqual([
      {
        StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlops-local-training',
        Input: {
          reason: 'drift',
          drift: drift.report,
          AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID:
            'arn:aws:states:us-east-1:000000000000:execution:local:1',
        },
      },
    ]);
  });

  it('does not retrain while a breach continues (no new episode)', async () => {
    const calls = new Calls();
    await run(
      'monitoring',
      {
        ComputeDrift: answer(drift),
        SendDriftAlert: answer({ decision: 'none', messageId: null, episodeSince: null }),
        StartRetraining: calls.stub('retrain', {}),
      },
      {},
      localInputs({ retrainOnDrift: true }),
    );
    expect(calls.of('retrain')).toEqual([]);
  });
});

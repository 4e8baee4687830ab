/**
 * The training pipeline's SageMaker branch, inside the trainer container: read the plan
 * PlanTraining wrote, run every candidate through the same three steps the Lambda branch's Map
 * runs (train → evaluate → log, the functions of train-candidate, evaluate-candidate and
 * log-candidate-run), at most `max_concurrency` at once, and write the `CandidateResult[]` to
 * the plan's `sageMakerResults` for CollectSageMakerResults.
 *
 * As in the Map, a candidate that fails becomes a `FailedCandidate` (what the `CandidateFailed`
 * Pass state builds: the error's name and message) and the others go on; when every candidate
 * fails the results are still written and SelectBest fails the run. The job itself fails only
 * when the plan cannot be read or is malformed, or the results cannot be written.
 */
import { z } from 'zod';
import { CandidateSpecError, parseCandidateSpec } from '../core/training';
import type {
  CandidateResult,
  CandidateSpec,
  DatasetRef,
  EvaluateCandidateInput,
  EvaluateCandidateOutput,
  FailedCandidate,
  LogCandidateRunInput,
  LogCandidateRunOutput,
  S3Pointer,
  SageMakerTrainerHyperparameters,
  TrainCandidateInput,
  TrainCandidateOutput,
} from '../steps/step-io';
import { getJson, putJson } from '../steps/support/s3-objects';
import type { StepContext } from '../steps/support/step-context';
import { StepInputError, step, TransientStepError } from '../steps/support/step-errors';
import { evaluateCandidate } from '../steps/tasks/evaluate-candidate';
import { logCandidateRun } from '../steps/tasks/log-candidate-run';
import { trainCandidate } from '../steps/tasks/train-candidate';

/** The three steps of one candidate, as the Map's Tasks call them. */
export interface CandidateSteps {
  train(input: TrainCandidateInput, context: StepContext): Promise<TrainCandidateOutput>;
  evaluate(input: EvaluateCandidateInput, context: StepContext): Promise<EvaluateCandidateOutput>;
  log(input: LogCandidateRunInput, context: StepContext): Promise<LogCandidateRunOutput>;
}

/** The Map Tasks' `TransientStepError` retrier: 3 retries from 5 s, doubling, full jitter. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly intervalSeconds: number;
  readonly backoffRate: number;
}

export interface ContainerTrainingDeps {
  /** @default the step functions behind TrainCandidate, EvaluateCandidate and LogCandidateRun */
  readonly steps?: CandidateSteps;
  /** @default the retrier of the ASL file's candidate Tasks */
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const TRANSIENT_RETRY: RetryPolicy = { maxAttempts: 3, intervalSeconds: 5, backoffRate: 2 };

const CORE_STEPS: CandidateSteps = {
  train: trainCandidate,
  evaluate: evaluateCandidate,
  log: logCandidateRun,
};

const pointer = z.object({ bucket: z.string().min(1), key: z.string().min(1) });

/** The fields of `PlanTrainingOutput` the container uses; candidates are checked one by one below. */
const planSchema = z.object({
  runId: z.string().min(1),
  experimentName: z.string().min(1),
  dataset: z.object({
    name: z.string().min(1),
    version: z.string().min(1),
    manifest: pointer,
    train: pointer,
    test: pointer,
    reference: pointer,
    rowCount: z.number().int().nonnegative(),
  }),
  candidates: z.array(z.unknown()).min(1),
  sageMakerResults: pointer,
});

export interface ContainerPlan {
  readonly runId: string;
  readonly experimentName: string;
  readonly dataset: DatasetRef;
  readonly candidates: readonly CandidateSpec[];
  readonly sageMakerResults: S3Pointer;
}

export async function trainPlanInContainer(
  hyperparameters: SageMakerTrainerHyperparameters,
  context: StepContext,
  deps: ContainerTrainingDeps = {},
): Promise<readonly CandidateResult[]> {
  const maxConcurrency = parseMaxConcurrency(hyperparameters.max_concurrency);
  const planAt: S3Pointer = { bucket: hyperparameters.plan_bucket, key: hyperparameters.plan_key };
  const plan = parsePlan(await getJson(context.s3, planAt), `s3://${planAt.bucket}/${planAt.key}`);
  const results = await trainCandidates(plan, maxConcurrency, context, deps);
  await putJson(context.s3, plan.sageMakerResults, results);
  return results;
}

/** What the Map does: every candidate through its three steps, `maxConcurrency` at once, results in plan order. */
export function trainCandidates(
  plan: ContainerPlan,
  maxConcurrency: number,
  context: StepContext,
  deps: ContainerTrainingDeps = {},
): Promise<CandidateResult[]> {
  const steps = deps.steps ?? CORE_STEPS;
  const retrying = retrier(deps.retry ?? TRANSIENT_RETRY, deps.sleep ?? sleep);
  return mapBounded(plan.candidates, maxConcurrency, (candidate) =>
    trainOne(plan, candidate, context, steps, retrying),
  );
}

/** `max_concurrency` as SageMaker hands it over (a string); absent means one at a time. */
export function parseMaxConcurrency(value: string | undefined): number {
  if (value === undefined) return 1;
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) {
    throw new StepInputError('max_concurrency', `must be a whole number of 1 or more (got '${value}')`);
  }
  return Number(value);
}

/**
 * The plan as PlanTraining wrote it. PlanTraining checked the candidate specs already, so a bad
 * one here means the plan was edited or corrupted: the job fails naming it, rather than training
 * something nobody asked for.
 */
export function parsePlan(value: unknown, where: string): ContainerPlan {
  const parsed = planSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StepInputError(`${where} ${fieldPath(issue?.path ?? [])}`.trim(), issue?.message ?? 'bad plan');
  }
  const seen = new Set<string>();
  const candidates = parsed.data.candidates.map((raw, i) => {
    try {
      parseCandidateSpec(raw);
    } catch (error) {
      if (error instanceof CandidateSpecError)
        throw new StepInputError(`${where} candidates[${i}]`, error.message);
      throw error;
    }
    // Passed on as written, as the Map passes each item: the steps parse it themselves.
    const spec = raw as CandidateSpec;
    if (seen.has(spec.name))
      throw new StepInputError(`${where} candidates[${i}]`, `name "${spec.name}" is used twice`);
    seen.add(spec.name);
    return spec;
  });
  return { ...parsed.data, candidates };
}

/** `['dataset', 'manifest', 'key']` → `dataset.manifest.key`, `['candidates', 0]` → `candidates[0]`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) =>
      typeof segment === 'number' ? `[${segment}]` : `${i > 0 ? '.' : ''}${String(segment)}`,
    )
    .join('');
}

type Retrying = <T>(body: () => Promise<T>) => Promise<T>;

/** One Map item: the three steps in order, each retried on TransientStepError; any other failure is the item's result. */
async function trainOne(
  plan: ContainerPlan,
  candidate: CandidateSpec,
  context: StepContext,
  steps: CandidateSteps,
  retrying: Retrying,
): Promise<CandidateResult> {
  const { runId, experimentName, dataset } = plan;
  try {
    const training = await retrying(() =>
      steps.train({ runId, experimentName, dataset, candidate }, context),
    );
    const evaluation = await retrying(() =>
      steps.evaluate(
        { runId, dataset, candidate, model: training.model, mlflowRunId: training.mlflowRunId },
        context,
      ),
    );
    return await retrying(() =>
      steps.log({ runId, experimentName, dataset, candidate, training, evaluation }, context),
    );
  } catch (error) {
    return failedCandidate(candidate.name, error);
  }
}

/** The `CandidateFailed` Pass state's output: `error` is the error's name, `cause` its message. */
export function failedCandidate(candidateId: string, error: unknown): FailedCandidate {
  if (error instanceof Error)
    return { status: 'failed', candidateId, error: error.name, cause: error.message };
  return { status: 'failed', candidateId, error: 'Error', cause: String(error) };
}

/** Runs a step as its Lambda handler would (outages become TransientStepError) and retries those like the ASL. */
function retrier(policy: RetryPolicy, wait: (ms: number) => Promise<void>): Retrying {
  return async (body) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step(body);
      } catch (error) {
        if (!(error instanceof TransientStepError) || attempt >= policy.maxAttempts) throw error;
        // Full jitter, as Step Functions' JitterStrategy FULL: anywhere between 0 and the backoff.
        await wait(Math.random() * policy.intervalSeconds * 1000 * policy.backoffRate ** attempt);
      }
    }
  };
}

/** `fn` over every item, at most `limit` at once; results in the items' order, as a Map's. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

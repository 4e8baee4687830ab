/**
 * The step catalogue: every Lambda-backed step of the four pipelines, once. Everything else that
 * lists steps derives from this table:
 *
 * - lib/pipelines.ts makes one function per entry (its handler, memory, timeout, onnxruntime
 *   layer) and grants it the S3 prefixes below;
 * - lib/state-machine-substitutions.ts binds each entry's `${<Step>FunctionArn}` placeholder;
 * - each handler in `handlers/` is `stepHandler('<step>', task)`, type-checked against the entry's
 *   input and output (step-io.ts);
 * - the local runner (localstack/runner/pipelines.ts) imports each entry's task module when a
 *   Task state first calls it.
 *
 * Pure data and string functions: lib/ (CDK) imports it, so no runtime import may be added here
 * (the step I/O types are `import type`, erased at build).
 */
import type * as io from './step-io';

export const PIPELINE_NAMES = ['data', 'training', 'inference', 'monitoring'] as const;
export type PipelineName = (typeof PIPELINE_NAMES)[number];

/** The data lake's buckets, by their key in lib/data-lake.ts (`DataLake.landing`, …). */
export type BucketKey = 'landing' | 'curated' | 'quarantine' | 'predictions' | 'monitoring';

/** What a step's function may do under one prefix of one bucket (lib/bucket-access.ts grants it). */
export interface S3Grant {
  readonly bucket: BucketKey;
  /** Key prefix ending with `/`. */
  readonly prefix: string;
  readonly read?: boolean;
  readonly write?: boolean;
  /** `prefix`: list keys under the prefix; `bucket`: the whole bucket (a GET of a missing key is 404, not 403). */
  readonly list?: 'prefix' | 'bucket';
}

/** What one step's function needs beyond the defaults every step function gets. */
export interface StepSpec {
  readonly pipeline: PipelineName;
  /** The function's description in the console. */
  readonly description: string;
  /** MB. */
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /**
   * Loads ONNX models with onnxruntime-node: the function gets the onnxruntime layer and leaves
   * the package out of its bundle. Only steps whose handler imports it (test/cdk/bundling.test.ts
   * checks both ways).
   */
  readonly onnx?: boolean;
  /** Least-privilege S3 access, one line per bucket prefix (see stepfunctions/README.md). */
  readonly s3: readonly S3Grant[];
  /** Sends the drift e-mail: gets the alert addresses (lib/drift-alerts.ts) and SES send permission. */
  readonly sendsAlerts?: boolean;
}

// Carries a step's input and output types on its entry; never set at run time.
declare const stepIo: unique symbol;

/** A catalogue entry: the spec, typed with the JSON the step takes and returns. */
export interface StepEntry<Input, Output> extends StepSpec {
  readonly [stepIo]?: (input: Input) => Output;
}

function step<Input, Output>(spec: StepSpec): StepEntry<Input, Output> {
  return spec;
}

const minutes = (n: number) => n * 60;

export const STEP_CATALOGUE = {
  'ingest-data': step<io.IngestDataInput, io.IngestDataOutput>({
    pipeline: 'data',
    description: 'Data pipeline: read a landing prefix or bundled dataset into one CSV',
    memorySize: 1024,
    timeoutSeconds: minutes(5),
    s3: [
      { bucket: 'landing', prefix: 'landing/', read: true, list: 'prefix' },
      { bucket: 'curated', prefix: 'work/', write: true },
    ],
  }),
  'validate-data': step<io.ValidateDataInput, io.ValidateDataOutput>({
    pipeline: 'data',
    description: 'Data pipeline: check rows against the data contract',
    memorySize: 1024,
    timeoutSeconds: minutes(5),
    s3: [{ bucket: 'curated', prefix: 'work/', read: true, write: true }],
  }),
  'quarantine-rows': step<io.QuarantineRowsInput, io.QuarantineRowsOutput>({
    pipeline: 'data',
    description: 'Data pipeline: move rejected rows to the quarantine bucket',
    memorySize: 512,
    timeoutSeconds: minutes(2),
    s3: [
      { bucket: 'curated', prefix: 'work/', read: true },
      { bucket: 'quarantine', prefix: 'quarantine/', write: true },
    ],
  }),
  'split-dataset': step<io.SplitDatasetInput, io.SplitDatasetOutput>({
    pipeline: 'data',
    description: 'Data pipeline: split valid rows into train, test and reference',
    memorySize: 1024,
    timeoutSeconds: minutes(5),
    s3: [{ bucket: 'curated', prefix: 'work/', read: true, write: true }],
  }),
  'publish-dataset': step<io.PublishDatasetInput, io.PublishDatasetOutput>({
    pipeline: 'data',
    description: 'Data pipeline: publish the curated dataset version',
    memorySize: 1024,
    timeoutSeconds: minutes(5),
    s3: [
      { bucket: 'curated', prefix: 'work/', read: true },
      { bucket: 'curated', prefix: 'datasets/', read: true, write: true, list: 'prefix' },
    ],
  }),
  'plan-training': step<io.PlanTrainingInput, io.PlanTrainingOutput>({
    pipeline: 'training',
    description: 'Training pipeline: resolve the dataset version and candidate grid',
    memorySize: 512,
    timeoutSeconds: minutes(1),
    s3: [
      { bucket: 'curated', prefix: 'datasets/', read: true, list: 'prefix' },
      { bucket: 'curated', prefix: 'training-runs/', write: true },
    ],
  }),
  'train-candidate': step<io.TrainCandidateInput, io.TrainCandidateOutput>({
    pipeline: 'training',
    description: 'Training pipeline: train one candidate and export it to ONNX',
    memorySize: 3008,
    timeoutSeconds: minutes(15),
    s3: [
      { bucket: 'curated', prefix: 'datasets/', read: true },
      { bucket: 'curated', prefix: 'training-runs/', write: true },
    ],
  }),
  'evaluate-candidate': step<io.EvaluateCandidateInput, io.EvaluateCandidateOutput>({
    pipeline: 'training',
    description: 'Training pipeline: score one candidate on the holdout',
    memorySize: 2048,
    timeoutSeconds: minutes(5),
    onnx: true,
    s3: [
      { bucket: 'curated', prefix: 'datasets/', read: true },
      { bucket: 'curated', prefix: 'training-runs/', read: true, write: true, list: 'prefix' },
    ],
  }),
  'log-candidate-run': step<io.LogCandidateRunInput, io.LogCandidateRunOutput>({
    pipeline: 'training',
    description: 'Training pipeline: log params, metrics and the model to MLflow',
    memorySize: 1024,
    timeoutSeconds: minutes(5),
    s3: [{ bucket: 'curated', prefix: 'training-runs/', read: true, list: 'prefix' }],
  }),
  'collect-sagemaker-results': step<io.CollectSageMakerResultsInput, io.CollectSageMakerResultsOutput>({
    pipeline: 'training',
    description: 'Training pipeline: read the SageMaker trainer results',
    memorySize: 256,
    timeoutSeconds: minutes(1),
    s3: [{ bucket: 'curated', prefix: 'training-runs/', read: true }],
  }),
  'select-best': step<io.SelectBestInput, io.SelectBestOutput>({
    pipeline: 'training',
    description: 'Training pipeline: rank candidates by the selection metric',
    memorySize: 256,
    timeoutSeconds: 30,
    s3: [],
  }),
  'register-model': step<io.RegisterModelInput, io.RegisterModelOutput>({
    pipeline: 'training',
    description: 'Training pipeline: register the best model version in MLflow',
    memorySize: 512,
    timeoutSeconds: minutes(2),
    s3: [],
  }),
  'promote-model': step<io.PromoteModelInput, io.PromoteModelOutput>({
    pipeline: 'training',
    description: 'Training pipeline: set Challenger, or Production when the new version wins',
    memorySize: 2048,
    timeoutSeconds: minutes(5),
    onnx: true,
    s3: [{ bucket: 'curated', prefix: 'datasets/', read: true }],
  }),
  'plan-inference': step<io.PlanInferenceInput, io.PlanInferenceOutput>({
    pipeline: 'inference',
    description: 'Inference pipeline: find the newest batch and pin model versions',
    memorySize: 512,
    timeoutSeconds: minutes(1),
    s3: [{ bucket: 'landing', prefix: 'landing/', list: 'prefix' }],
  }),
  'predict-batch': step<io.PredictBatchInput, io.PredictBatchOutput>({
    pipeline: 'inference',
    description: 'Inference pipeline: score one object with Production and Challenger',
    memorySize: 2048,
    timeoutSeconds: minutes(15),
    onnx: true,
    s3: [
      { bucket: 'landing', prefix: 'landing/', read: true },
      { bucket: 'predictions', prefix: 'predictions/', write: true },
    ],
  }),
  'compare-predictions': step<io.ComparePredictionsInput, io.ComparePredictionsOutput>({
    pipeline: 'inference',
    description: 'Inference pipeline: compare Production and Challenger, log to MLflow',
    memorySize: 1024,
    timeoutSeconds: minutes(5),
    s3: [{ bucket: 'predictions', prefix: 'predictions/', read: true, write: true, list: 'prefix' }],
  }),
  'compute-drift': step<io.ComputeDriftInput, io.ComputeDriftOutput>({
    pipeline: 'monitoring',
    description: 'Monitoring pipeline: drift of the newest data and predictions',
    memorySize: 2048,
    timeoutSeconds: minutes(10),
    s3: [
      { bucket: 'curated', prefix: 'datasets/', read: true, list: 'prefix' },
      { bucket: 'landing', prefix: 'landing/', read: true, list: 'prefix' },
      { bucket: 'predictions', prefix: 'predictions/', read: true, list: 'prefix' },
      { bucket: 'monitoring', prefix: 'drift/', read: true, write: true, list: 'prefix' },
    ],
  }),
  'send-drift-alert': step<io.SendDriftAlertInput, io.SendDriftAlertOutput>({
    pipeline: 'monitoring',
    description: 'Monitoring pipeline: e-mail a drift breach or recovery once per episode',
    memorySize: 256,
    timeoutSeconds: minutes(1),
    // The episode store reads a key that may not exist yet: whole-bucket list turns 403 into 404.
    s3: [
      { bucket: 'monitoring', prefix: 'monitoring/alert-state/', read: true, write: true, list: 'bucket' },
    ],
    sendsAlerts: true,
  }),
};

export type StepName = keyof typeof STEP_CATALOGUE;
type StepIo<S extends StepName> =
  (typeof STEP_CATALOGUE)[S] extends StepEntry<infer Input, infer Output>
    ? { readonly input: Input; readonly output: Output }
    : never;
/** The JSON a step takes (step-io.ts), as its catalogue entry says. */
export type StepInput<S extends StepName> = StepIo<S>['input'];
/** The JSON a step returns (step-io.ts), as its catalogue entry says. */
export type StepOutput<S extends StepName> = StepIo<S>['output'];

/** Every step, in catalogue order (the pipelines' order, each pipeline's steps in run order). */
export const STEP_NAMES = Object.keys(STEP_CATALOGUE) as StepName[];

/** The steps of one pipeline, in run order. */
export function stepsOf(pipeline: PipelineName): StepName[] {
  return STEP_NAMES.filter((name) => STEP_CATALOGUE[name].pipeline === pipeline);
}

/** `ingest-data` → `IngestData`: construct ids (lib/pipelines.ts) and the names below. */
export function pascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** `collect-sagemaker-results` → `CollectSageMakerResults`: the step's name in the ASL files and in code. */
function stepTypeName(step: StepName): string {
  return pascalCase(step).replace('Sagemaker', 'SageMaker');
}

/** `train-candidate` → `TrainCandidateFunctionArn`, the placeholder its Task's Resource uses. */
export function functionArnPlaceholder(step: StepName): string {
  return `${stepTypeName(step)}FunctionArn`;
}

/** The Lambda entry of a step, relative to the repository root; it exports `handler`. */
export function handlerModule(step: StepName): string {
  return `lambdas/steps/handlers/${step}.ts`;
}

/**
 * The module of a step's body, relative to the repository root, and the function it exports:
 * `(input, context: StepContext) => output`, what the handler wraps and the local runner calls.
 */
export function taskModule(step: StepName): { readonly path: string; readonly exportName: string } {
  const name = stepTypeName(step);
  return {
    path: `lambdas/steps/tasks/${step}.ts`,
    exportName: `${name.charAt(0).toLowerCase()}${name.slice(1)}`,
  };
}

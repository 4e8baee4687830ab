/**
 * The training pipeline's `TrainOnSageMaker` Task, run locally: an emulation of the
 * `sagemaker:createTrainingJob.sync` integration that runs the trainer container's entry
 * (`lambdas/sagemaker-trainer/main.ts`) in this process the way SageMaker runs the image:
 * the request's hyperparameters (strings) in `<root>/input/config/hyperparameters.json`, the
 * request's `Environment` as the container's whole environment, and the outcome read back from
 * the exit code and `<root>/output/failure`.
 *
 * Only the job's AWS access comes from the runner: where SageMaker gives the container its
 * role's credentials and region, the emulation passes the runner's endpoint, credentials and
 * region. Everything else the trainer needs must be in the request, so a variable missing from
 * the ASL file's `Environment` fails locally as it would in AWS.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as runTrainer, trainerPaths } from '../../lambdas/sagemaker-trainer/main';
import type { LocalTaskHandler } from './state-machine-runner';

type Environment = Readonly<Record<string, string | undefined>>;
type JsonValue = Parameters<LocalTaskHandler>[0];

/** The Task resource this emulation binds. */
export const CREATE_TRAINING_JOB_SYNC = 'arn:aws:states:::sagemaker:createTrainingJob.sync';

/** The stand-ins for what SageMaker gives a container besides the request's Environment: the role's access. */
const AWS_ACCESS_VARIABLES = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  // The stand-in for the pipelines' password secret the job's role reads on AWS.
  'MLFLOW_TRACKING_PASSWORD',
] as const;

/** A job that ran and failed: Step Functions reports `.sync` job failures as States.TaskFailed. */
export class TrainingJobFailedError extends Error {
  override name = 'States.TaskFailed';
}

/** A request CreateTrainingJob refuses (a ValidationException), which Step Functions names so. */
export class TrainingJobRequestError extends Error {
  override name = 'SageMaker.AmazonSageMakerException';
}

export interface TrainingJobRequest {
  readonly TrainingJobName: string;
  readonly HyperParameters: Readonly<Record<string, string>>;
  readonly Environment: Readonly<Record<string, string>>;
}

export interface LocalTrainingJobOptions {
  /** The runner's environment, read for the AWS access variables only. */
  readonly env: Environment;
  /** The job's log lines (its CloudWatch stream in AWS). @default dropped */
  readonly log?: (line: string) => void;
  /** @default us-east-1 */
  readonly region?: string;
}

/** A Task handler that runs each request as a local training job and answers like the `.sync` integration. */
export function localTrainingJob(options: LocalTrainingJobOptions): LocalTaskHandler {
  return async (input) => {
    const request = parseTrainingJobRequest(input);
    const region = options.env.AWS_REGION?.trim() || options.region || 'us-east-1';
    const arn = `arn:aws:sagemaker:${region}:000000000000:training-job/${request.TrainingJobName.toLowerCase()}`;
    const root = await mkdtemp(join(tmpdir(), 'sagemaker-job-'));
    try {
      const paths = trainerPaths(root);
      await mkdir(join(root, 'input', 'config'), { recursive: true });
      await mkdir(join(root, 'output'), { recursive: true });
      await mkdir(join(root, 'model'), { recursive: true });
      await writeFile(paths.hyperparameters, JSON.stringify(request.HyperParameters));
      const access = Object.fromEntries(
        AWS_ACCESS_VARIABLES.flatMap((name) => (options.env[name] ? [[name, options.env[name]]] : [])),
      );
      const env = {
        ...access,
        ...request.Environment,
        TRAINING_JOB_NAME: request.TrainingJobName,
        TRAINING_JOB_ARN: arn,
        SM_ML_ROOT: root,
      };
      const started = new Date();
      const exitCode = await runTrainer({ env, log: options.log ?? (() => {}) });
      if (exitCode !== 0) {
        const reason = await readFile(paths.failure, 'utf8').catch(() => '');
        throw new TrainingJobFailedError(
          reason.trim() || `the trainer exited with code ${exitCode} without writing ${paths.failure}`,
        );
      }
      const response: JsonValue = {
        TrainingJobName: request.TrainingJobName,
        TrainingJobArn: arn,
        TrainingJobStatus: 'Completed',
        SecondaryStatus: 'Completed',
        HyperParameters: request.HyperParameters,
        Environment: request.Environment,
        TrainingStartTime: started.toISOString(),
        TrainingEndTime: new Date().toISOString(),
      };
      return response;
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
}

// CreateTrainingJob's limits on the fields the emulation uses (SageMaker API reference).
const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const ENVIRONMENT_KEY = /^[a-zA-Z_][a-zA-Z0-9_]{0,511}$/;

/** The request as CreateTrainingJob validates it: string maps, a valid job name. */
export function parseTrainingJobRequest(input: unknown): TrainingJobRequest {
  const request = (input ?? {}) as Record<string, unknown>;
  const name = request.TrainingJobName;
  if (typeof name !== 'string' || !JOB_NAME.test(name)) {
    throw new TrainingJobRequestError(
      `ValidationException: TrainingJobName ${JSON.stringify(name)} must be 1-63 letters, digits and hyphens`,
    );
  }
  const hyperParameters = stringMap(request.HyperParameters, 'HyperParameters', 2500, /^.{1,256}$/);
  const environment = stringMap(request.Environment, 'Environment', 512, ENVIRONMENT_KEY);
  return { TrainingJobName: name, HyperParameters: hyperParameters, Environment: environment };
}

function stringMap(
  value: unknown,
  field: string,
  maxValueLength: number,
  keyPattern: RegExp,
): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TrainingJobRequestError(`ValidationException: ${field} must be a map of strings`);
  }
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (!keyPattern.test(key)) {
      throw new TrainingJobRequestError(`ValidationException: ${field} key '${key}' is not allowed`);
    }
    if (typeof entry !== 'string' || entry.length > maxValueLength) {
      throw new TrainingJobRequestError(
        `ValidationException: ${field}.${key} must be a string of at most ${maxValueLength} characters (got ${JSON.stringify(entry)})`,
      );
    }
    map[key] = entry;
  }
  return map;
}

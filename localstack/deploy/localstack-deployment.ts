/**
 * What `npm run local:deploy` and `npm run local:e2e` share: the compose file, the stack and the
 * context it is deployed with, where LocalStack and MLflow listen on this machine, and the
 * outputs file the deploy writes and the e2e reads.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { loadStageConfig, type StageConfig } from '../../lib/config';
import { LOCAL_DIR, ROOT } from '../services/local-paths';
import { portFromEnv } from '../services/port-setting';

export const COMPOSE_FILE = join(ROOT, 'localstack', 'deploy', 'compose.yml');
export const STACK_NAME = 'MlopsStack-dev';
/** `cdklocal deploy --outputs-file`: the stack's outputs, by name. */
export const OUTPUTS_FILE = join(LOCAL_DIR, 'localstack-outputs.json');
/** Kept apart from `cdk.out`, so a deploy here never mixes with a `cdk synth` for AWS. */
export const CDK_OUT_DIR = join(LOCAL_DIR, 'localstack', 'cdk.out');

/** Which emulator `local:deploy` used and where it and MLflow answer: `local:e2e` and `--destroy` read it. */
export const DEPLOYMENT_FILE = join(LOCAL_DIR, 'local-deployment.json');

/** LocalStack in Docker (compose.yml), or ministack as a plain process (no Docker). */
export type Emulator = 'localstack' | 'ministack';

const deploymentRecordSchema = z.object({
  emulator: z.enum(['localstack', 'ministack']),
  awsUrl: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'),
  mlflowUrl: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'),
  region: z.string().min(1),
});

export type DeploymentRecord = z.infer<typeof deploymentRecordSchema>;

export function writeDeploymentRecord(record: DeploymentRecord, file = DEPLOYMENT_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** The record of the last deploy; undefined when there is none (a LocalStack deploy before it existed). */
export function readDeploymentRecord(file = DEPLOYMENT_FILE): DeploymentRecord | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = deploymentRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new DeploymentError(
      `${file} is not a deployment record (${problems.join('; ')}): run npm run local:deploy again`,
    );
  }
  return parsed.data;
}

/**
 * The emulator to deploy to: MLOPS_EMULATOR when set (`ministack` or `localstack`), else LocalStack
 * when a Docker engine is there and ministack when not.
 */
export function chooseEmulator(
  env: NodeJS.ProcessEnv,
  dockerAvailable: () => Promise<boolean>,
): Promise<Emulator> {
  const wanted = env.MLOPS_EMULATOR?.trim();
  if (wanted === 'ministack' || wanted === 'localstack') return Promise.resolve(wanted);
  if (wanted) {
    return Promise.reject(
      new DeploymentError(`MLOPS_EMULATOR must be ministack or localstack, got "${wanted}"`),
    );
  }
  return dockerAvailable().then((yes) => (yes ? 'localstack' : 'ministack'));
}

/** Exit code when local:e2e finds no deployment to test (run local:deploy first). */
export const EXIT_NOT_DEPLOYED = 2;

/** The CDK context of the LocalStack deployment; the e2e reads the same config (model, dataset, sender). */
export function deploymentContext(region: string): Record<string, string> {
  return { stage: 'dev', localstack: 'true', region };
}

export function deploymentConfig(region: string): StageConfig {
  const context = deploymentContext(region);
  return loadStageConfig((key) => context[key]);
}

export interface LocalStackEndpoints {
  /** LocalStack's edge port on this machine, for the SDK clients of the e2e (path-style S3). */
  readonly awsUrl: string;
  /** The compose MLflow as this machine reaches it (the functions use http://mlflow:5000). */
  readonly mlflowUrl: string;
  readonly awsPort: number;
  readonly region: string;
}

/** The ports come from the same variables as `npm run local:up` (compose.yml reads them too). */
export function localStackEndpoints(env: NodeJS.ProcessEnv = process.env): LocalStackEndpoints {
  const awsPort = portFromEnv(env, 'MLOPS_AWS_PORT', 4566, DeploymentError);
  const mlflowPort = portFromEnv(env, 'MLOPS_MLFLOW_PORT', 5000, DeploymentError);
  return {
    awsUrl: `http://127.0.0.1:${awsPort}`,
    mlflowUrl: `http://127.0.0.1:${mlflowPort}`,
    awsPort,
    region: env.AWS_REGION?.trim() || 'us-east-1',
  };
}

/** A failure with a message for people and no stack trace worth showing. */
export class DeploymentError extends Error {
  override name = 'DeploymentError';
}

const arn = (service: string) =>
  z.string().regex(new RegExp(`^arn:aws:${service}:`), `must be an ARN of ${service}`);

const stackOutputsSchema = z.object({
  PredictApiUrl: z.string().regex(/^https?:\/\/[^/]+\/[^/]+\/?$/, 'must be the API stage URL'),
  /** Only with -c apiAuth=api-key (the emulators' default); IAM-authorized stacks have no key. */
  PredictApiKeyId: z.string().min(1).optional(),
  LandingBucket: z.string().min(3),
  /** The serving manifests' bucket (#19); optional until every deployed stack has one. */
  ServingBucket: z.string().min(3).optional(),
  DataPipelineArn: arn('states'),
  TrainingPipelineArn: arn('states'),
  InferencePipelineArn: arn('states'),
  MonitoringPipelineArn: arn('states'),
});

export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/** Parses the outputs file's text; an error names the file and every missing or bad output. */
export function parseStackOutputs(text: string, file = OUTPUTS_FILE): StackOutputs {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new DeploymentError(`${file} is not JSON: run npm run local:deploy again`);
  }
  const stack = (document as Record<string, unknown> | null)?.[STACK_NAME];
  if (typeof stack !== 'object' || stack === null) {
    throw new DeploymentError(`${file} has no outputs for ${STACK_NAME}: run npm run local:deploy again`);
  }
  const parsed = stackOutputsSchema.safeParse(stack);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new DeploymentError(
      `${file} lacks outputs local:e2e needs (${problems.join('; ')}): run npm run local:deploy again`,
    );
  }
  return parsed.data;
}

/** Reads the outputs `npm run local:deploy` wrote; a missing file says to run it first. */
export function readStackOutputs(file = OUTPUTS_FILE): StackOutputs {
  if (!existsSync(file)) {
    throw new DeploymentError(
      `no LocalStack deployment found (${file} is missing): run npm run local:deploy first`,
    );
  }
  return parseStackOutputs(readFileSync(file, 'utf8'), file);
}

/**
 * The predict API's base URL on LocalStack. The stack output names the API as on AWS
 * (`https://<id>.execute-api.<region>.<suffix>/<stage>/`); LocalStack serves every API under its
 * edge port at `/_aws/execute-api/<id>/<stage>/`, which needs no DNS.
 */
export function localInvokeUrl(predictApiUrl: string, awsUrl: string): string {
  const url = new URL(predictApiUrl);
  const apiId = url.hostname.split('.')[0];
  const stage = url.pathname.split('/').find((part) => part !== '');
  if (!apiId || !stage) throw new DeploymentError(`PredictApiUrl ${predictApiUrl} names no API id and stage`);
  return `${awsUrl}/_aws/execute-api/${apiId}/${stage}`;
}

/** The region of a deployed ARN (`arn:aws:states:<region>:…`). */
export function regionOf(resourceArn: string): string {
  const region = resourceArn.split(':')[3];
  if (!region) throw new DeploymentError(`${resourceArn} is not an ARN with a region`);
  return region;
}

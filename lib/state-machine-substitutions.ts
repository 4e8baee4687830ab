/**
 * The `${Name}` placeholders of the ASL files in stepfunctions/ and the one function that binds
 * them. CDK passes the result as `definitionSubstitutions`; the local runner applies the same map
 * (with local ARNs) to the same file, so both execute one document. No aws-cdk-lib import here:
 * the values may be CDK tokens or plain strings. The steps and their placeholders come from the
 * step catalogue (lambdas/steps/catalogue.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PromotionMode } from '../lambdas/core/settings';
import {
  type BucketKey,
  functionArnPlaceholder,
  PIPELINE_NAMES,
  type PipelineName,
  type StepName,
  stepsOf,
} from '../lambdas/steps/catalogue';

export { functionArnPlaceholder, PIPELINE_NAMES, type PipelineName, type StepName };

/** The prefix of a stage's resource names (`mlops-dev`). */
export function stageNamePrefix(stage: string): string {
  return `mlops-${stage}`;
}

/** A pipeline's state machine name (`mlops-dev-training`); `mlops run --aws` finds it by this. */
export function stateMachineName(namePrefix: string, pipeline: PipelineName): string {
  return `${namePrefix}-${pipeline}`;
}

/** The Lambda-backed steps of each pipeline, in run order, from the step catalogue. */
export const PIPELINE_STEPS: Readonly<Record<PipelineName, readonly StepName[]>> = {
  data: stepsOf('data'),
  training: stepsOf('training'),
  inference: stepsOf('inference'),
  monitoring: stepsOf('monitoring'),
};

/** The ASL file of each pipeline, as an absolute path. */
export function definitionFile(pipeline: PipelineName): string {
  return fileURLToPath(new URL(`../stepfunctions/${pipeline}-pipeline.asl.json`, import.meta.url));
}

/** Settings the state machines branch on; everything else a step needs comes from its environment. */
export interface TrainingSettings {
  readonly sageMakerRowThreshold: number;
  readonly maxConcurrency: number;
  readonly promotion: PromotionMode;
  /** The SageMaker trainer's environment: what `stepConfigFrom` reads, as the step functions get it. */
  readonly modelName: string;
  readonly datasetName: string;
  readonly mlflowTrackingUri: string;
  /** The pipelines' MLflow user and the secret with its password (empty: MLflow without auth). */
  readonly mlflowUsername: string;
  readonly mlflowPasswordSecretArn: string;
  readonly buckets: DataLakeBucketNames;
  readonly trainerImageUri: string;
  readonly sageMakerRoleArn: string;
  readonly sageMakerInstanceType: string;
  readonly sageMakerSecurityGroupId: string;
  /** The two private subnets (one per AZ) the training job runs in, to reach MLflow. */
  readonly privateSubnetIds: readonly [string, string];
}

/** The data lake's bucket names, as `stepConfigFrom` reads them (`LANDING_BUCKET`, …). */
export type DataLakeBucketNames = Readonly<Record<BucketKey, string>>;

export interface InferenceSettings {
  readonly inlineObjectLimit: number;
}

export interface MonitoringSettings {
  readonly driftThreshold: number;
  readonly retrainOnDrift: boolean;
  readonly trainingStateMachineArn: string;
}

export interface SubstitutionInputs {
  /** ARN of each step's function (in AWS) or of its local stand-in. */
  readonly functionArns: Readonly<Record<StepName, string>>;
  readonly training: TrainingSettings;
  readonly inference: InferenceSettings;
  readonly monitoring: MonitoringSettings;
}

/** The substitution map of one pipeline: every placeholder its ASL file uses, and nothing else. */
export function pipelineSubstitutions(
  pipeline: PipelineName,
  inputs: SubstitutionInputs,
): Record<string, string> {
  const map: Record<string, string> = {};
  for (const step of PIPELINE_STEPS[pipeline]) {
    map[functionArnPlaceholder(step)] = inputs.functionArns[step];
  }
  switch (pipeline) {
    case 'data':
      break;
    case 'training': {
      const t = inputs.training;
      Object.assign(map, {
        SageMakerRowThreshold: String(t.sageMakerRowThreshold),
        TrainingMaxConcurrency: String(t.maxConcurrency),
        PromotionMode: t.promotion,
        ModelName: t.modelName,
        DatasetName: t.datasetName,
        MlflowTrackingUri: t.mlflowTrackingUri,
        MlflowTrackingUsername: t.mlflowUsername,
        MlflowPasswordSecretArn: t.mlflowPasswordSecretArn,
        LandingBucketName: t.buckets.landing,
        CuratedBucketName: t.buckets.curated,
        QuarantineBucketName: t.buckets.quarantine,
        PredictionsBucketName: t.buckets.predictions,
        MonitoringBucketName: t.buckets.monitoring,
        TrainerImageUri: t.trainerImageUri,
        SageMakerRoleArn: t.sageMakerRoleArn,
        SageMakerInstanceType: t.sageMakerInstanceType,
        SageMakerSecurityGroupId: t.sageMakerSecurityGroupId,
        PrivateSubnet1: t.privateSubnetIds[0],
        PrivateSubnet2: t.privateSubnetIds[1],
      });
      break;
    }
    case 'inference':
      map.InlineObjectLimit = String(inputs.inference.inlineObjectLimit);
      break;
    case 'monitoring':
      Object.assign(map, {
        DriftThreshold: String(inputs.monitoring.driftThreshold),
        RetrainOnDrift: String(inputs.monitoring.retrainOnDrift),
        TrainingStateMachineArn: inputs.monitoring.trainingStateMachineArn,
      });
      break;
  }
  return map;
}

// Same syntax as CloudFormation's DefinitionSubstitutions: `${Name}`, letters, digits and `_`.
const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The placeholder names a definition uses, sorted. */
export function placeholdersIn(definition: string): string[] {
  return [...new Set([...definition.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

export class SubstitutionError extends Error {
  override name = 'SubstitutionError';
}

/**
 * Applies a substitution map the way Step Functions does at deploy time: plain text replacement.
 * Throws on a placeholder the map does not bind, and on a value that would break the JSON string
 * it lands in.
 */
export function applySubstitutions(
  definition: string,
  substitutions: Readonly<Record<string, string>>,
): string {
  const unbound = placeholdersIn(definition).filter((name) => !(name in substitutions));
  if (unbound.length > 0) {
    throw new SubstitutionError(`no substitution for ${unbound.map((n) => `\${${n}}`).join(', ')}`);
  }
  return definition.replace(PLACEHOLDER, (_match, name: string) => {
    const value = substitutions[name] as string;
    if (/["\\]/.test(value)) {
      throw new SubstitutionError(`substitution ${name} must not contain '"' or '\\' (got ${value})`);
    }
    return value;
  });
}

/** Reads a pipeline's ASL file and returns it with the substitutions applied, parsed. */
export function loadDefinition(
  pipeline: PipelineName,
  substitutions: Readonly<Record<string, string>>,
): unknown {
  return JSON.parse(applySubstitutions(readFileSync(definitionFile(pipeline), 'utf8'), substitutions));
}

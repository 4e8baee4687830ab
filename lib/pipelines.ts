import { ArnFormat, Duration, IgnoreMode, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { PromotionMode } from '../lambdas/core/settings';
import {
  handlerModule,
  pascalCase,
  STEP_CATALOGUE,
  STEP_NAMES,
  type StepName,
  type StepSpec,
} from '../lambdas/steps/catalogue';
import { grantPrefixAccess } from './bucket-access';
import type { DataLake } from './data-lake';
import type { DriftAlerts } from './drift-alerts';
import { type MlflowAccess, MlopsFunction, PROJECT_ROOT } from './mlops-function';
import { acknowledgeWildcards } from './nag-acknowledgements';
import type { OnnxRuntimeLayer } from './onnxruntime-layer';
import { PipelineStateMachine } from './pipeline-state-machine';
import type { ServingBucket } from './serving';
import {
  definitionFile,
  PIPELINE_NAMES,
  PIPELINE_STEPS,
  type PipelineName,
  pipelineSubstitutions,
  type SubstitutionInputs,
  stateMachineName,
} from './state-machine-substitutions';

export interface PipelinesProps {
  /** Prefix of the state machine names: `<namePrefix>-data`, `-training`, `-inference`, `-monitoring`. */
  readonly namePrefix: string;
  readonly dataLake: DataLake;
  /** The alias manifests and model copies the steps that move an alias publish (SERVING_BUCKET). */
  readonly serving: ServingBucket;
  readonly mlflow: MlflowAccess;
  /** The two private subnets (one per AZ) SageMaker training jobs run in. */
  readonly privateSubnetIds: readonly [string, string];
  readonly alerts: DriftAlerts;
  readonly onnxRuntime: OnnxRuntimeLayer;
  readonly architecture: lambda.Architecture;
  readonly logRetention: logs.RetentionDays;
  readonly modelName: string;
  readonly datasetName: string;
  readonly training: {
    readonly maxConcurrency: number;
    readonly sageMakerRowThreshold: number;
    readonly sageMakerInstanceType: string;
    readonly promotion: PromotionMode;
  };
  readonly inference: { readonly inlineObjectLimit: number };
  readonly drift: { readonly threshold: number; readonly retrainOnDrift: boolean };
  /** @default RemovalPolicy.DESTROY (log groups) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The steps whose task calls MLflow (`context.mlflow()`): their functions run in the VPC with the
 * MLflow client security group; the others stay outside it (no NAT needed for SES or S3).
 * test/unit/pipeline-vpc.test.ts checks the list against the task sources.
 */
export const MLFLOW_STEPS: ReadonlySet<StepName> = new Set<StepName>([
  'plan-training',
  'train-candidate',
  'evaluate-candidate',
  'log-candidate-run',
  'register-model',
  'promote-model',
  'plan-inference',
  'predict-batch',
  'compare-predictions',
  'compute-drift',
]);

/**
 * The steps that move an alias in MLflow: each then publishes the alias's manifest to the serving
 * bucket (publishAliasManifest), so they get SERVING_BUCKET and the writers' grant.
 */
export const ALIAS_MOVING_STEPS: ReadonlySet<StepName> = new Set<StepName>(['promote-model']);

/** Prefix of the SageMaker training job names the training pipeline starts (`mlops-train-<runId>`). */
const TRAINING_JOB_PREFIX = 'mlops-train-';

/**
 * The four pipelines (data, training, inference, monitoring) as Step Functions state machines
 * loaded from stepfunctions/*.asl.json, the step functions their Tasks call, and the SageMaker
 * training branch (trainer image from docker/trainer/Dockerfile, its role).
 */
export class Pipelines extends Construct {
  readonly functions: Record<StepName, MlopsFunction>;
  readonly stateMachines: Record<PipelineName, PipelineStateMachine>;
  readonly sageMakerRole: iam.Role;
  readonly trainerImage: DockerImageAsset;
  readonly sageMakerSecurityGroup: ec2.ISecurityGroup;
  /** The substitution inputs the state machines were built from (the local runner builds its own). */
  readonly substitutionInputs: SubstitutionInputs;

  constructor(scope: Construct, id: string, props: PipelinesProps) {
    super(scope, id);
    validateProps(props);
    const stack = Stack.of(this);
    const lake = props.dataLake;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    const bucketEnv = {
      LANDING_BUCKET: lake.landing.bucketName,
      CURATED_BUCKET: lake.curated.bucketName,
      PREDICTIONS_BUCKET: lake.predictions.bucketName,
      QUARANTINE_BUCKET: lake.quarantine.bucketName,
      MONITORING_BUCKET: lake.monitoring.bucketName,
      MODEL_NAME: props.modelName,
      DATASET_NAME: props.datasetName,
    };

    const functions = {} as Record<StepName, MlopsFunction>;
    for (const step of STEP_NAMES) {
      const spec: StepSpec = STEP_CATALOGUE[step];
      const fn = new MlopsFunction(this, pascalCase(step), {
        entry: handlerModule(step),
        description: spec.description,
        serviceName: `${spec.pipeline}-pipeline`,
        architecture: props.architecture,
        logRetention: props.logRetention,
        removalPolicy,
        // Only the steps that call MLflow sit in the VPC; the rest reach AWS APIs from outside it.
        mlflow: MLFLOW_STEPS.has(step) ? props.mlflow : undefined,
        memorySize: spec.memorySize,
        timeout: Duration.seconds(spec.timeoutSeconds),
        environment: {
          ...bucketEnv,
          ...(spec.sendsAlerts ? props.alerts.environment : {}),
          ...(ALIAS_MOVING_STEPS.has(step) ? { SERVING_BUCKET: props.serving.bucket.bucketName } : {}),
        },
        ...(spec.onnx ? { layers: [props.onnxRuntime.layer], externalModules: ['onnxruntime-node'] } : {}),
      });
      for (const grant of spec.s3) grantPrefixAccess(fn.role, { ...grant, bucket: lake[grant.bucket] });
      if (spec.sendsAlerts) props.alerts.grantSend(fn.role);
      if (ALIAS_MOVING_STEPS.has(step)) props.serving.grantPublish(fn.role);
      functions[step] = fn;
    }
    this.functions = functions;

    // --- SageMaker training branch ------------------------------------------------------------
    this.trainerImage = new DockerImageAsset(this, 'TrainerImage', {
      directory: PROJECT_ROOT,
      file: 'docker/trainer/Dockerfile',
      platform: Platform.LINUX_AMD64,
      // The build context is the repository root, reduced to what the Dockerfile copies.
      ignoreMode: IgnoreMode.DOCKER,
      exclude: [
        '*',
        '!package.json',
        '!package-lock.json',
        '!.npmrc',
        '!tsconfig.json',
        '!lambdas',
        '!docker/trainer',
      ],
    });
    // The MLflow load balancer admits this group: the job logs every candidate to MLflow.
    this.sageMakerSecurityGroup = props.mlflow.clientSecurityGroup;
    this.sageMakerRole = this.createSageMakerRole(lake);
    // The job logs as the pipelines' MLflow user: it reads that password at start.
    props.mlflow.writerCredentials?.secret.grantRead(this.sageMakerRole);

    const names = Object.fromEntries(
      PIPELINE_NAMES.map((p) => [p, stateMachineName(props.namePrefix, p)]),
    ) as Record<PipelineName, string>;
    const stateMachineArn = (name: string) =>
      stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });

    this.substitutionInputs = {
      functionArns: Object.fromEntries(
        Object.entries(functions).map(([step, fn]) => [step, fn.function.functionArn]),
      ) as Record<StepName, string>,
      training: {
        sageMakerRowThreshold: props.training.sageMakerRowThreshold,
        maxConcurrency: props.training.maxConcurrency,
        promotion: props.training.promotion,
        modelName: props.modelName,
        datasetName: props.datasetName,
        mlflowTrackingUri: props.mlflow.trackingUri,
        mlflowUsername: props.mlflow.writerCredentials?.username ?? '',
        mlflowPasswordSecretArn: props.mlflow.writerCredentials?.secret.secretArn ?? '',
        // The trainer container gets the step functions' settings (bucketEnv), so stepConfigFrom reads the same.
        buckets: {
          landing: bucketEnv.LANDING_BUCKET,
          curated: bucketEnv.CURATED_BUCKET,
          quarantine: bucketEnv.QUARANTINE_BUCKET,
          predictions: bucketEnv.PREDICTIONS_BUCKET,
          monitoring: bucketEnv.MONITORING_BUCKET,
        },
        trainerImageUri: this.trainerImage.imageUri,
        sageMakerRoleArn: this.sageMakerRole.roleArn,
        sageMakerInstanceType: props.training.sageMakerInstanceType,
        sageMakerSecurityGroupId: this.sageMakerSecurityGroup.securityGroupId,
        privateSubnetIds: props.privateSubnetIds,
      },
      inference: { inlineObjectLimit: props.inference.inlineObjectLimit },
      monitoring: {
        driftThreshold: props.drift.threshold,
        retrainOnDrift: props.drift.retrainOnDrift,
        trainingStateMachineArn: stateMachineArn(names.training),
      },
    };

    const machines = {} as Record<PipelineName, PipelineStateMachine>;
    for (const pipeline of PIPELINE_NAMES) {
      machines[pipeline] = new PipelineStateMachine(this, `${pascalCase(pipeline)}Pipeline`, {
        stateMachineName: names[pipeline],
        definitionFile: definitionFile(pipeline),
        definitionSubstitutions: pipelineSubstitutions(pipeline, this.substitutionInputs),
        invokes: PIPELINE_STEPS[pipeline].map((step) => functions[step].function),
        logRetention: props.logRetention,
        removalPolicy,
      });
    }
    this.stateMachines = machines;
    // The monitoring machine names the training machine's ARN; deploy them in that order.
    machines.monitoring.node.addDependency(machines.training);

    this.grantSageMakerTraining(machines.training, stack);
    // The overlap guard (FindRunningExecutions) lists the RUNNING executions of its own machine.
    machines.training.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:ListExecutions'],
        resources: [stateMachineArn(names.training)],
      }),
    );
    this.grantDistributedMap(
      machines.inference,
      stateMachineArn(names.inference),
      lake,
      names.inference,
      stack,
    );
    machines.monitoring.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [stateMachineArn(names.training)],
      }),
    );
  }

  private createSageMakerRole(lake: DataLake): iam.Role {
    const role = new iam.Role(this, 'SageMakerTrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'SageMaker training jobs of the training pipeline',
    });
    // What the trainer reads and writes (as train-, evaluate- and log-candidate together): the
    // dataset version's manifest and splits, the plan, the candidates' model directories and
    // reports, the results file; SageMaker itself uploads the job output under training-runs/.
    // Models reach MLflow's artifact store through the server's proxy, so no artifacts bucket.
    grantPrefixAccess(role, { bucket: lake.curated, prefix: 'datasets/', read: true });
    grantPrefixAccess(role, {
      bucket: lake.curated,
      prefix: 'training-runs/',
      read: true,
      write: true,
      list: 'prefix',
    });
    this.trainerImage.repository.grantPull(role);
    const stack = Stack.of(this);
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws/sagemaker/TrainingJobs:*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: [logGroupArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
      }),
    );
    // A job with VpcConfig creates its ENIs with the job role; these actions take no resource ARNs.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }),
    );
    acknowledgeWildcards(
      role,
      { resources: ['*'] },
      'VPC ENI management, ecr:GetAuthorizationToken and cloudwatch:PutMetricData (limited by a namespace condition) support no resource-level permissions.',
    );
    acknowledgeWildcards(
      role,
      { resources: [logGroupArn] },
      "SageMaker writes one log stream per job under its fixed '/aws/sagemaker/TrainingJobs' log group.",
    );
    return role;
  }

  /** createTrainingJob.sync: create, poll, stop the job, and the managed EventBridge rule it uses. */
  private grantSageMakerTraining(machine: PipelineStateMachine, stack: Stack): void {
    const jobArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'training-job',
      resourceName: `${TRAINING_JOB_PREFIX}*`,
    });
    machine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
        ],
        resources: [jobArn],
      }),
    );
    machine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule',
          }),
        ],
      }),
    );
    machine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.sageMakerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    acknowledgeWildcards(
      machine.stateMachine.role,
      { resources: [jobArn] },
      `Training job names are '${TRAINING_JOB_PREFIX}<runId>', chosen per run; the grant is limited to that prefix.`,
    );
  }

  /**
   * The Distributed Map: it lists the input prefix itself (ItemReader), starts child executions
   * of its own state machine and writes its results manifest to the predictions bucket.
   */
  private grantDistributedMap(
    machine: PipelineStateMachine,
    ownArn: string,
    lake: DataLake,
    name: string,
    stack: Stack,
  ): void {
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${name}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    machine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [ownArn] }),
    );
    machine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [executions],
      }),
    );
    const role = machine.stateMachine.role;
    if (!(role instanceof iam.Role))
      throw new Error('Pipelines: the inference state machine role must be a Role');
    grantPrefixAccess(role, { bucket: lake.landing, prefix: 'landing/', list: 'prefix' });
    grantPrefixAccess(role, { bucket: lake.predictions, prefix: 'predictions/', write: true });
    acknowledgeWildcards(
      role,
      { resources: [executions] },
      'Distributed Map child executions get generated names under this state machine; only its own executions are covered.',
    );
  }
}

function validateProps(props: PipelinesProps): void {
  if (!/^[a-z][a-z0-9-]{0,60}$/.test(props.namePrefix)) {
    throw new Error(
      `PipelinesProps.namePrefix must be lowercase letters, digits and - (got '${props.namePrefix}')`,
    );
  }
  const t = props.training;
  if (!Number.isInteger(t.maxConcurrency) || t.maxConcurrency < 1 || t.maxConcurrency > 40) {
    throw new Error(
      `PipelinesProps.training.maxConcurrency must be 1-40 (inline Map limit); got ${t.maxConcurrency}`,
    );
  }
  if (!Number.isInteger(t.sageMakerRowThreshold) || t.sageMakerRowThreshold < 1) {
    throw new Error(
      `PipelinesProps.training.sageMakerRowThreshold must be a positive integer (got ${t.sageMakerRowThreshold})`,
    );
  }
  if (!/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(t.sageMakerInstanceType)) {
    throw new Error(
      `PipelinesProps.training.sageMakerInstanceType must look like ml.m5.xlarge (got '${t.sageMakerInstanceType}')`,
    );
  }
  if (props.drift.threshold <= 0 || props.drift.threshold > 1) {
    throw new Error(`PipelinesProps.drift.threshold must be in (0, 1] (got ${props.drift.threshold})`);
  }
  const limit = props.inference.inlineObjectLimit;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`PipelinesProps.inference.inlineObjectLimit must be a positive integer (got ${limit})`);
  }
}

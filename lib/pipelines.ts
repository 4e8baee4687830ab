import { ArnFormat, Duration, IgnoreMode, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { grantPrefixAccess, type PrefixAccess } from './bucket-access';
import type { PromotionMode } from './config';
import type { DataLake } from './data-lake';
import type { DriftAlerts } from './drift-alerts';
import { type MlflowAccess, MlopsFunction, PROJECT_ROOT } from './mlops-function';
import { acknowledgeWildcards } from './nag-acknowledgements';
import type { OnnxRuntimeLayer } from './onnxruntime-layer';
import { PipelineStateMachine } from './pipeline-state-machine';
import {
  definitionFile,
  PIPELINE_NAMES,
  PIPELINE_STEPS,
  type PipelineName,
  pipelineSubstitutions,
  type StepName,
  type SubstitutionInputs,
  stateMachineName,
} from './state-machine-substitutions';

export interface PipelinesProps {
  /** Prefix of the state machine names: `<namePrefix>-data`, `-training`, `-inference`, `-monitoring`. */
  readonly namePrefix: string;
  readonly dataLake: DataLake;
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

/** What one step function needs beyond the defaults. */
interface StepSpec {
  readonly pipeline: PipelineName;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /**
   * Loads ONNX models with onnxruntime-node: the function gets the layer and leaves the package
   * out of its bundle. Only steps whose handler imports it (test/cdk/bundling.test.ts checks both ways).
   */
  readonly onnx?: boolean;
  readonly access: (lake: DataLake) => PrefixAccess[];
  readonly environment?: (props: PipelinesProps) => Record<string, string>;
}

const minutes = (n: number) => Duration.minutes(n);

/** Each step's least-privilege S3 access, one line per bucket prefix (see stepfunctions/README.md). */
const STEPS: Record<StepName, StepSpec> = {
  'ingest-data': {
    pipeline: 'data',
    description: 'Data pipeline: read a landing prefix or bundled dataset into one CSV',
    memorySize: 1024,
    timeout: minutes(5),
    access: (l) => [
      { bucket: l.landing, prefix: 'landing/', read: true, list: 'prefix' },
      { bucket: l.curated, prefix: 'work/', write: true },
    ],
  },
  'validate-data': {
    pipeline: 'data',
    description: 'Data pipeline: check rows against the data contract',
    memorySize: 1024,
    timeout: minutes(5),
    access: (l) => [{ bucket: l.curated, prefix: 'work/', read: true, write: true }],
  },
  'quarantine-rows': {
    pipeline: 'data',
    description: 'Data pipeline: move rejected rows to the quarantine bucket',
    memorySize: 512,
    timeout: minutes(2),
    access: (l) => [
      { bucket: l.curated, prefix: 'work/', read: true },
      { bucket: l.quarantine, prefix: 'quarantine/', write: true },
    ],
  },
  'split-dataset': {
    pipeline: 'data',
    description: 'Data pipeline: split valid rows into train, test and reference',
    memorySize: 1024,
    timeout: minutes(5),
    access: (l) => [{ bucket: l.curated, prefix: 'work/', read: true, write: true }],
  },
  'publish-dataset': {
    pipeline: 'data',
    description: 'Data pipeline: publish the curated dataset version',
    memorySize: 1024,
    timeout: minutes(5),
    access: (l) => [
      { bucket: l.curated, prefix: 'work/', read: true },
      { bucket: l.curated, prefix: 'datasets/', read: true, write: true, list: 'prefix' },
    ],
  },
  'plan-training': {
    pipeline: 'training',
    description: 'Training pipeline: resolve the dataset version and candidate grid',
    memorySize: 512,
    timeout: minutes(1),
    access: (l) => [
      { bucket: l.curated, prefix: 'datasets/', read: true, list: 'prefix' },
      { bucket: l.curated, prefix: 'training-runs/', write: true },
    ],
  },
  'train-candidate': {
    pipeline: 'training',
    description: 'Training pipeline: train one candidate and export it to ONNX',
    memorySize: 3008,
    timeout: minutes(15),
    access: (l) => [
      { bucket: l.curated, prefix: 'datasets/', read: true },
      { bucket: l.curated, prefix: 'training-runs/', write: true },
    ],
  },
  'evaluate-candidate': {
    pipeline: 'training',
    description: 'Training pipeline: score one candidate on the holdout',
    memorySize: 2048,
    timeout: minutes(5),
    onnx: true,
    access: (l) => [
      { bucket: l.curated, prefix: 'datasets/', read: true },
      { bucket: l.curated, prefix: 'training-runs/', read: true, write: true, list: 'prefix' },
    ],
  },
  'log-candidate-run': {
    pipeline: 'training',
    description: 'Training pipeline: log params, metrics and the model to MLflow',
    memorySize: 1024,
    timeout: minutes(5),
    access: (l) => [{ bucket: l.curated, prefix: 'training-runs/', read: true, list: 'prefix' }],
  },
  'collect-sagemaker-results': {
    pipeline: 'training',
    description: 'Training pipeline: read the SageMaker trainer results',
    memorySize: 256,
    timeout: minutes(1),
    access: (l) => [{ bucket: l.curated, prefix: 'training-runs/', read: true }],
  },
  'select-best': {
    pipeline: 'training',
    description: 'Training pipeline: rank candidates by the selection metric',
    memorySize: 256,
    timeout: Duration.seconds(30),
    access: () => [],
  },
  'register-model': {
    pipeline: 'training',
    description: 'Training pipeline: register the best model version in MLflow',
    memorySize: 512,
    timeout: minutes(2),
    access: () => [],
  },
  'promote-model': {
    pipeline: 'training',
    description: 'Training pipeline: set Challenger, or Production when the new version wins',
    memorySize: 2048,
    timeout: minutes(5),
    onnx: true,
    access: (l) => [{ bucket: l.curated, prefix: 'datasets/', read: true }],
  },
  'plan-inference': {
    pipeline: 'inference',
    description: 'Inference pipeline: find the newest batch and pin model versions',
    memorySize: 512,
    timeout: minutes(1),
    access: (l) => [{ bucket: l.landing, prefix: 'landing/', list: 'prefix' }],
  },
  'predict-batch': {
    pipeline: 'inference',
    description: 'Inference pipeline: score one object with Production and Challenger',
    memorySize: 2048,
    timeout: minutes(15),
    onnx: true,
    access: (l) => [
      { bucket: l.landing, prefix: 'landing/', read: true },
      { bucket: l.predictions, prefix: 'predictions/', write: true },
    ],
  },
  'compare-predictions': {
    pipeline: 'inference',
    description: 'Inference pipeline: compare Production and Challenger, log to MLflow',
    memorySize: 1024,
    timeout: minutes(5),
    access: (l) => [
      { bucket: l.predictions, prefix: 'predictions/', read: true, write: true, list: 'prefix' },
    ],
  },
  'compute-drift': {
    pipeline: 'monitoring',
    description: 'Monitoring pipeline: drift of the newest data and predictions',
    memorySize: 2048,
    timeout: minutes(10),
    access: (l) => [
      { bucket: l.curated, prefix: 'datasets/', read: true, list: 'prefix' },
      { bucket: l.landing, prefix: 'landing/', read: true, list: 'prefix' },
      { bucket: l.predictions, prefix: 'predictions/', read: true, list: 'prefix' },
      { bucket: l.monitoring, prefix: 'drift/', read: true, write: true, list: 'prefix' },
    ],
    environment: (p) => ({ DRIFT_THRESHOLD: String(p.drift.threshold) }),
  },
  'send-drift-alert': {
    pipeline: 'monitoring',
    description: 'Monitoring pipeline: e-mail a drift breach or recovery once per episode',
    memorySize: 256,
    timeout: minutes(1),
    // The episode store reads a key that may not exist yet: whole-bucket list turns 403 into 404.
    access: (l) => [
      { bucket: l.monitoring, prefix: 'monitoring/alert-state/', read: true, write: true, list: 'bucket' },
    ],
    environment: (p) => p.alerts.environment,
  },
};

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
    for (const [step, spec] of Object.entries(STEPS) as [StepName, StepSpec][]) {
      const fn = new MlopsFunction(this, pascal(step), {
        entry: `lambdas/steps/${step}.ts`,
        description: spec.description,
        serviceName: `${spec.pipeline}-pipeline`,
        architecture: props.architecture,
        logRetention: props.logRetention,
        removalPolicy,
        mlflow: props.mlflow,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        environment: { ...bucketEnv, ...spec.environment?.(props) },
        ...(spec.onnx ? { layers: [props.onnxRuntime.layer], externalModules: ['onnxruntime-node'] } : {}),
      });
      for (const access of spec.access(lake)) grantPrefixAccess(fn.role, access);
      functions[step] = fn;
    }
    props.alerts.grantSend(functions['send-drift-alert'].role);
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
      machines[pipeline] = new PipelineStateMachine(this, `${pascal(pipeline)}Pipeline`, {
        stateMachineName: names[pipeline],
        definitionFile: definitionFile(pipeline),
        definitionSubstitutions: pipelineSubstitutions(pipeline, this.substitutionInputs),
        invokes: PIPELINE_STEPS[pipeline].map((step) => functions[step].function),
        logRetention: props.logRetention,
        removalPolicy,
        timeout: pipeline === 'training' ? Duration.hours(8) : Duration.hours(2),
      });
    }
    this.stateMachines = machines;
    // The monitoring machine names the training machine's ARN; deploy them in that order.
    machines.monitoring.node.addDependency(machines.training);

    this.grantSageMakerTraining(machines.training, stack);
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

function pascal(kebab: string): string {
  return kebab
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
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

import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { MlopsFunction } from './mlops-function';
import { acknowledgeManagedPolicy, acknowledgeRule, acknowledgeWildcards } from './nag-acknowledgements';

export interface MlflowDatabaseUpgradeProps {
  readonly cluster: ecs.ICluster;
  /** The MLflow service's task definition: the upgrade runs its image, settings and secrets. */
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The container that runs `db-upgrade` instead of the server (docker/mlflow/entrypoint.sh). */
  readonly containerName: string;
  /** The MLflow version the image is built for: a new one re-runs the upgrade. */
  readonly mlflowVersion: string;
  /** Where the service's tasks run, so the upgrade task reaches the database and the image registry. */
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
  readonly assignPublicIp: boolean;
  /** The container's awslogs group and stream prefix: a failure names the task's log stream. */
  readonly logGroup: logs.ILogGroup;
  readonly logStreamPrefix: string;
  readonly logRetention: logs.RetentionDays;
  /** How long a migration may take before the deployment fails. @default 50 minutes */
  readonly timeout?: Duration;
}

/**
 * `mlflow db upgrade` before the MLflow service's new tasks start: a custom resource whose handler
 * (lambdas/mlflow-upgrade/) runs a one-off ECS task of the service's task definition with the
 * command `db-upgrade` and waits for it to exit 0, failing the deployment with the task's stopped
 * reason otherwise. Its properties carry the MLflow version and the task definition, so a version
 * change (or any new task definition) runs it again; the service depends on it
 * (`service.node.addDependency(upgrade)`), so CloudFormation updates the service only afterwards.
 */
export class MlflowDatabaseUpgrade extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MlflowDatabaseUpgradeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const fn = (name: string, entry: string, description: string) =>
      new MlopsFunction(this, name, {
        entry,
        description,
        serviceName: 'mlflow-db-upgrade',
        // No native code: Graviton is the cheaper choice either way.
        architecture: lambda.Architecture.ARM_64,
        logRetention: props.logRetention,
        timeout: Duration.seconds(60),
        memorySize: 256,
      });
    const onEvent = fn(
      'OnEvent',
      'lambdas/mlflow-upgrade/on-event.ts',
      'Starts the MLflow database upgrade task (mlflow db upgrade) before the service updates',
    );
    const isComplete = fn(
      'IsComplete',
      'lambdas/mlflow-upgrade/is-complete.ts',
      'Waits for the MLflow database upgrade task to exit 0',
    );

    const taskDefinition = props.taskDefinition;
    onEvent.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [taskDefinition.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    onEvent.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [taskDefinition.taskRole.roleArn, taskDefinition.obtainExecutionRole().roleArn],
      }),
    );
    const tasksOfCluster = stack.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${props.cluster.clusterName}/*`,
    });
    isComplete.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [tasksOfCluster] }),
    );
    acknowledgeWildcards(
      isComplete.role,
      { resources: [tasksOfCluster] },
      'ecs:DescribeTasks of the upgrade task, whose ID ECS chooses at RunTask: any task of the MLflow cluster.',
    );

    const timeout = props.timeout ?? Duration.minutes(50);
    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent.function,
      isCompleteHandler: isComplete.function,
      // A Fargate task pulls the image and starts in about a minute; then the migration runs.
      queryInterval: Duration.seconds(15),
      totalTimeout: timeout,
      logGroup: providerLogs,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', { retention: props.logRetention }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
      disableWaiterStateMachineLogging: false,
    });
    const subnets = props.cluster.vpc.selectSubnets(props.subnets).subnetIds;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MlflowDatabaseUpgrade',
      serviceTimeout: Duration.seconds(Math.min(3600, timeout.toSeconds() + 300)),
      properties: {
        MlflowVersion: props.mlflowVersion,
        Cluster: props.cluster.clusterArn,
        TaskDefinition: taskDefinition.taskDefinitionArn,
        ContainerName: props.containerName,
        Subnets: subnets,
        SecurityGroups: props.securityGroups.map((group) => group.securityGroupId),
        AssignPublicIp: props.assignPublicIp ? 'ENABLED' : 'DISABLED',
        LogGroup: props.logGroup.logGroupName,
        LogStreamPrefix: props.logStreamPrefix,
      },
    });

    // The provider framework's own function and waiter state machine (CDK's, not ours to shape).
    acknowledgeManagedPolicy(
      provider,
      'service-role/AWSLambdaBasicExecutionRole',
      "CDK's custom-resource provider framework gives its own function the basic execution role; it only writes its logs.",
    );
    acknowledgeRule(
      provider,
      'L1',
      "The provider framework's function runtime is chosen by aws-cdk-lib; it moves with CDK upgrades.",
    );
    acknowledgeRule(
      provider,
      'SF2',
      "X-Ray on the provider framework's waiter state machine: it only polls isComplete every 15 seconds.",
    );
    acknowledgeWildcards(
      provider,
      {
        resources: [`${onEvent.function.functionArn}:*`, `${isComplete.function.functionArn}:*`],
      },
      'The provider framework invokes its handlers by ARN with any version or alias qualifier.',
    );
    const framework = (name: string) => provider.node.findChild(name) as lambda.IFunction;
    acknowledgeWildcards(
      provider,
      {
        resources: [
          `${framework('framework-isComplete').functionArn}:*`,
          `${framework('framework-onTimeout').functionArn}:*`,
          '*',
        ],
      },
      "The provider framework's waiter state machine invokes its functions with any qualifier, and CloudWatch Logs delivery (logs:CreateLogDelivery and the like) has no resource-level permissions.",
    );
  }
}

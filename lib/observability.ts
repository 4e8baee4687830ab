import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DRIFT_THRESHOLD, isEmailAddress } from '../lambdas/core/settings';
import { METRICS_NAMESPACE, MlopsFunction } from './mlops-function';
import { acknowledgeRule, acknowledgeWildcards } from './nag-acknowledgements';

/** Custom metrics read here; lambdas/steps/pipeline-metrics.ts (PIPELINE_METRICS) names the same ones for the emitters. */
export const CUSTOM_METRICS = {
  namespace: METRICS_NAMESPACE,
  driftScore: { name: 'DriftScore', service: 'monitoring-pipeline' },
  servedModelVersion: { name: 'ServedModelVersion', service: 'predict' },
  healthCheckSuccess: { name: 'HealthCheckSuccess', service: 'health-check' },
  healthCheckLatency: { name: 'HealthCheckLatency', service: 'health-check' },
} as const;

/** An ECS service and how many tasks it should run. */
export interface WatchedService {
  readonly service: ecs.FargateService;
  readonly desiredCount: number;
}

/** MLflow's tier as the alarms see it: the load balancer (when there is one), the tasks, the database. */
export interface MlflowTier {
  readonly loadBalancer?: elbv2.ApplicationLoadBalancer;
  readonly targetGroup?: elbv2.ApplicationTargetGroup;
  /** The MLflow server and, for the ECS-hosted Postgres, the database's own service. */
  readonly services: Readonly<Record<string, WatchedService>>;
  /**
   * With Container Insights the running-task alarms compare RunningTaskCount with the desired
   * count; without it, a service whose tasks report no CPU datapoint at all has none running.
   */
  readonly containerInsights: boolean;
  readonly database?:
    | { readonly kind: 'rds'; readonly instance: rds.DatabaseInstance; readonly allocatedStorageGiB: number }
    | { readonly kind: 'aurora'; readonly cluster: rds.DatabaseCluster };
  /** Alarm when the database has more connections open than this. @default 60 */
  readonly maxConnections?: number;
}

export interface ObservabilityProps {
  readonly api: apigateway.RestApi;
  /** The alias the predict function follows (dimension of ServedModelVersion). */
  readonly modelAlias: string;
  /** URL the health check GETs every `healthCheckInterval`. */
  readonly healthUrl: string;
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  /** Alarm when the headline drift metric goes over this. */
  readonly driftThreshold: number;
  /** Every function of the stack whose errors and throttles raise an alarm, by name. @default {} */
  readonly functions?: Readonly<Record<string, lambda.IFunction>>;
  /** The MLflow tier to watch (absent under an emulator, where the stack does not run MLflow). */
  readonly mlflow?: MlflowTier;
  /** Dead-letter queues of the schedules: any message in one raises an alarm. @default {} */
  readonly deadLetterQueues?: Readonly<Record<string, sqs.IQueue>>;
  /** Subscribed to the alarm topic by e-mail. @default no subscription */
  readonly alarmEmail?: string;
  /** Fail unless `alarmEmail` is set (prod: alarms must reach someone). @default false */
  readonly requireSubscriber?: boolean;
  readonly architecture: lambda.Architecture;
  readonly logRetention: logs.RetentionDays;
  /** @default 'ServerlessMlops' */
  readonly dashboardName?: string;
  /** @default 3000 */
  readonly latencyP99ThresholdMs?: number;
  /** Share of requests answered 5xx, in percent. @default 5 */
  readonly serverErrorRatePercent?: number;
  /** @default Duration.minutes(5) */
  readonly healthCheckInterval?: Duration;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Alarms on metric math (the 5xx rate). A local emulator (`-c localstack=true`) cannot create
   * them, so the local variant leaves the ServerErrorRate alarm out; the dashboard keeps its graph.
   * @default true
   */
  readonly metricMathAlarms?: boolean;
}

/**
 * One dashboard and alarms on every tier, all notifying one SNS topic: the predict API (5xx rate,
 * p99 latency, a failing /ping probe), every function's errors and throttles, every pipeline's
 * failed and timed-out executions, drift over the threshold, undeliverable schedule starts, and
 * MLflow (load balancer 5xx and unhealthy hosts, running tasks below desired, the database's free
 * storage, CPU and connections).
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly healthCheck: MlopsFunction;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const latencyThreshold = props.latencyP99ThresholdMs ?? 3000;
    const errorRate = props.serverErrorRatePercent ?? 5;
    validateProps(props, latencyThreshold, errorRate);
    const interval = props.healthCheckInterval ?? Duration.minutes(5);

    // CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the MLOps alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      masterKey: key,
      enforceSSL: true,
      displayName: 'MLOps alarms',
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.healthCheck = new MlopsFunction(this, 'HealthCheck', {
      entry: 'lambdas/canary/health-check.ts',
      description: 'Probes the predict API /ping and records HealthCheckSuccess',
      serviceName: 'health-check',
      architecture: props.architecture,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: { HEALTH_URL: props.healthUrl, HEALTH_TIMEOUT_MS: '5000' },
    });
    const probeDeadLetters = new sqs.Queue(this, 'HealthCheckDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
    });
    acknowledgeRule(
      probeDeadLetters,
      'SQS3',
      'This queue is the dead-letter queue of the health-check schedule.',
    );
    const schedulerRole = new iam.Role(this, 'HealthCheckSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'Lets the health-check schedule invoke the probe',
    });
    new scheduler.Schedule(this, 'HealthCheckSchedule', {
      description: 'Probes the predict API health route',
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new targets.LambdaInvoke(this.healthCheck.function, {
        role: schedulerRole,
        deadLetterQueue: probeDeadLetters,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(5),
      }),
    });

    acknowledgeWildcards(
      schedulerRole,
      { resources: [`${this.healthCheck.function.functionArn}:*`] },
      "The scheduler target's grantInvoke also covers the probe's versions and aliases; it is this one function only.",
    );

    // --- metrics -------------------------------------------------------------------------------
    const period = Duration.minutes(5);
    const requests = props.api.metricCount({ period, statistic: 'Sum' });
    const serverErrors = props.api.metricServerError({ period, statistic: 'Sum' });
    const clientErrors = props.api.metricClientError({ period, statistic: 'Sum' });
    const latency = (statistic: string) =>
      props.api.metricLatency({ period, statistic, label: `latency ${statistic}` });
    const custom = (
      metric: { name: string; service: string },
      statistic: string,
      extra: Record<string, string> = {},
    ) =>
      new cloudwatch.Metric({
        namespace: CUSTOM_METRICS.namespace,
        metricName: metric.name,
        dimensionsMap: { service: metric.service, ...extra },
        statistic,
        period,
      });
    const servedVersion = custom(CUSTOM_METRICS.servedModelVersion, 'Maximum', { Alias: props.modelAlias });
    const healthy = custom(CUSTOM_METRICS.healthCheckSuccess, 'Minimum');
    const healthLatency = custom(CUSTOM_METRICS.healthCheckLatency, 'Maximum');
    const drift = new cloudwatch.Metric({
      namespace: CUSTOM_METRICS.namespace,
      metricName: CUSTOM_METRICS.driftScore.name,
      dimensionsMap: { service: CUSTOM_METRICS.driftScore.service },
      statistic: 'Maximum',
      period: Duration.hours(1),
    });
    const serverErrorRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      label: '5xx rate (%)',
      period,
    });

    // --- alarms --------------------------------------------------------------------------------
    if (props.metricMathAlarms ?? true) {
      this.alarm('ServerErrorRate', {
        metric: serverErrorRate,
        threshold: errorRate,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        alarmDescription: `Predict API: more than ${errorRate}% of requests answered 5xx`,
      });
    }
    this.alarm('LatencyP99', {
      metric: props.api.metricLatency({ period, statistic: 'p99' }),
      threshold: latencyThreshold,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: `Predict API: p99 latency over ${latencyThreshold} ms`,
    });
    for (const [name, machine] of Object.entries(props.stateMachines)) {
      this.alarm(`${name}PipelineFailed`, {
        metric: machine.metricFailed({ period, statistic: 'Sum' }),
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription: `${name} pipeline: an execution failed`,
      });
      this.alarm(`${name}PipelineTimedOut`, {
        metric: machine.metricTimedOut({ period, statistic: 'Sum' }),
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription: `${name} pipeline: an execution timed out`,
      });
    }
    const functions = Object.entries({ ...props.functions, HealthCheck: this.healthCheck.function });
    // Not the canary's own: when it fails or is throttled it reports nothing, and HealthCheckFailing
    // treats missing data as breaching.
    for (const [name, fn] of Object.entries(props.functions ?? {})) {
      this.alarm(`${name}Errors`, {
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription: `${name} function: an invocation failed`,
      });
      this.alarm(`${name}Throttles`, {
        metric: fn.metricThrottles({ period, statistic: 'Sum' }),
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription: `${name} function: an invocation was throttled`,
      });
    }
    const mlflowWidgets = props.mlflow ? this.mlflowAlarms(props.mlflow, period) : [];
    this.alarm('DriftBreach', {
      metric: drift,
      threshold: props.driftThreshold,
      evaluationPeriods: 1,
      alarmDescription: `Drift score over ${props.driftThreshold}`,
    });
    this.alarm('HealthCheckFailing', {
      metric: healthy,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      // No data means the probe itself stopped: that is as bad as a failed probe.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: 'Predict API /ping did not answer 200 in time (no model loaded, or too slow)',
    });
    for (const [name, queue] of Object.entries(props.deadLetterQueues ?? {})) {
      this.alarm(`${name}ScheduleDeadLetters`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription: `${name} schedule: a pipeline start could not be delivered`,
      });
    }

    // --- dashboard -----------------------------------------------------------------------------
    const machines = Object.entries(props.stateMachines);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'ServerlessMlops',
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests', left: [requests], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [latency('p50'), latency('p90'), latency('p99')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API errors',
        left: [clientErrors.with({ label: '4xx' }), serverErrors.with({ label: '5xx' })],
        right: [serverErrorRate],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Served model version (${props.modelAlias})`,
        left: [servedVersion.with({ label: 'version' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Health check',
        left: [healthy.with({ label: 'healthy (1/0)' })],
        right: [healthLatency.with({ label: 'latency ms' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Drift score',
        left: [drift],
        leftAnnotations: [{ value: props.driftThreshold, label: 'threshold', color: cloudwatch.Color.RED }],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Pipeline executions',
        left: machines.map(([name, m]) =>
          m.metricStarted({ period, statistic: 'Sum', label: `${name} started` }),
        ),
        right: machines.map(([name, m]) =>
          m.metricSucceeded({ period, statistic: 'Sum', label: `${name} succeeded` }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Pipeline failures',
        left: machines.map(([name, m]) =>
          m.metricFailed({ period, statistic: 'Sum', label: `${name} failed` }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Pipeline timeouts',
        left: machines.map(([name, m]) =>
          m.metricTimedOut({ period, statistic: 'Sum', label: `${name} timed out` }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: functions.map(([name, fn]) => fn.metricErrors({ period, statistic: 'Sum', label: name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: functions.map(([name, fn]) => fn.metricThrottles({ period, statistic: 'Sum', label: name })),
        width: 8,
      }),
    );
    if (mlflowWidgets.length > 0) this.dashboard.addWidgets(...mlflowWidgets);
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }

  /** The MLflow tier's alarms; returns the dashboard widgets that chart the same metrics. */
  private mlflowAlarms(tier: MlflowTier, period: Duration): cloudwatch.IWidget[] {
    const widgets: cloudwatch.IWidget[] = [];
    if (tier.loadBalancer && tier.targetGroup) {
      const unhealthy = tier.targetGroup.metrics.unhealthyHostCount({ period, statistic: 'Maximum' });
      const elb5xx = tier.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
        period,
        statistic: 'Sum',
      });
      const target5xx = tier.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
        period,
        statistic: 'Sum',
      });
      this.alarm('MlflowUnhealthyHosts', {
        metric: unhealthy,
        threshold: 0,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        alarmDescription: 'MLflow load balancer: a target fails its /health check',
      });
      this.alarm('MlflowLoadBalancer5xx', {
        metric: elb5xx,
        threshold: 5,
        evaluationPeriods: 1,
        alarmDescription: 'MLflow load balancer: more than 5 of its own 5xx answers in 5 minutes',
      });
      this.alarm('MlflowServer5xx', {
        metric: target5xx,
        threshold: 5,
        evaluationPeriods: 1,
        alarmDescription: 'MLflow server: more than 5 5xx answers in 5 minutes',
      });
      widgets.push(
        new cloudwatch.GraphWidget({
          title: 'MLflow load balancer',
          left: [elb5xx.with({ label: 'ELB 5xx' }), target5xx.with({ label: 'server 5xx' })],
          right: [unhealthy.with({ label: 'unhealthy hosts' })],
          width: 8,
        }),
      );
    }
    const running: cloudwatch.IMetric[] = [];
    for (const [name, { service, desiredCount }] of Object.entries(tier.services)) {
      const metric = tier.containerInsights
        ? new cloudwatch.Metric({
            namespace: 'ECS/ContainerInsights',
            metricName: 'RunningTaskCount',
            dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
            statistic: 'Minimum',
            period,
          })
        : service.metricCpuUtilization({ period, statistic: 'SampleCount' });
      this.alarm(`${name}TasksBelowDesired`, {
        metric,
        threshold: tier.containerInsights ? desiredCount : 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        // A service with no task running reports nothing at all.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: tier.containerInsights
          ? `${name}: fewer than ${desiredCount} tasks running`
          : `${name}: no task running (no CPU datapoints)`,
      });
      // A label would turn the alarm into a metric-math one; only the graph gets it.
      running.push(
        metric.with({ label: tier.containerInsights ? `${name} running` : `${name} CPU datapoints` }),
      );
    }
    widgets.push(
      new cloudwatch.GraphWidget({
        title: tier.containerInsights ? 'MLflow tasks running' : 'MLflow tasks reporting CPU',
        left: running,
        width: 8,
      }),
    );
    const database = tier.database;
    if (database) {
      const maxConnections = tier.maxConnections ?? 60;
      const source = database.kind === 'rds' ? database.instance : database.cluster;
      const cpu = source.metricCPUUtilization({ period, statistic: 'Average' });
      const connections = source.metricDatabaseConnections({ period, statistic: 'Maximum' });
      const storage =
        database.kind === 'rds'
          ? database.instance.metricFreeStorageSpace({ period, statistic: 'Minimum' })
          : database.cluster.metric('FreeLocalStorage', { period, statistic: 'Minimum' });
      // RDS: 10% of the allocated storage (storage autoscaling grows it); Aurora: its local (temp) storage.
      const minFreeBytes =
        database.kind === 'rds' ? database.allocatedStorageGiB * 0.1 * 1024 ** 3 : 1024 ** 3;
      this.alarm('DatabaseFreeStorage', {
        metric: storage,
        threshold: minFreeBytes,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `MLflow database: less than ${(minFreeBytes / 1024 ** 3).toFixed(1)} GiB free storage`,
      });
      this.alarm('DatabaseCpu', {
        metric: cpu,
        threshold: 80,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        alarmDescription: 'MLflow database: CPU over 80% for 15 minutes',
      });
      this.alarm('DatabaseConnections', {
        metric: connections,
        threshold: maxConnections,
        evaluationPeriods: 2,
        alarmDescription: `MLflow database: more than ${maxConnections} connections open`,
      });
      widgets.push(
        new cloudwatch.GraphWidget({
          title: 'MLflow database',
          left: [cpu.with({ label: 'CPU %' }), connections.with({ label: 'connections' })],
          right: [storage.with({ label: 'free storage (bytes)' })],
          width: 8,
        }),
      );
    }
    return widgets;
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}

function validateProps(props: ObservabilityProps, latencyThreshold: number, errorRate: number): void {
  if (latencyThreshold <= 0) {
    throw new Error(`ObservabilityProps.latencyP99ThresholdMs must be positive (got ${latencyThreshold})`);
  }
  if (errorRate <= 0 || errorRate >= 100) {
    throw new Error(`ObservabilityProps.serverErrorRatePercent must be between 0 and 100 (got ${errorRate})`);
  }
  if (!(props.driftThreshold > DRIFT_THRESHOLD.exclusiveMin)) {
    throw new Error(`ObservabilityProps.driftThreshold must be positive (got ${props.driftThreshold})`);
  }
  if (props.requireSubscriber && props.alarmEmail === undefined) {
    throw new Error(
      'ObservabilityProps.alarmEmail is required when requireSubscriber is set: the alarms must reach someone (-c alarmEmail=…)',
    );
  }
  if (props.alarmEmail !== undefined && !isEmailAddress(props.alarmEmail)) {
    throw new Error(`ObservabilityProps.alarmEmail must be an e-mail address (got '${props.alarmEmail}')`);
  }
  if (Object.keys(props.stateMachines).length === 0) {
    throw new Error('ObservabilityProps.stateMachines must name at least one state machine');
  }
}

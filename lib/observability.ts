import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
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

export interface ObservabilityProps {
  readonly api: apigateway.RestApi;
  /** The alias the predict function follows (dimension of ServedModelVersion). */
  readonly modelAlias: string;
  /** URL the health check GETs every `healthCheckInterval`. */
  readonly healthUrl: string;
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  /** Alarm when the headline drift metric goes over this. */
  readonly driftThreshold: number;
  /** Dead-letter queues of the schedules: any message in one raises an alarm. @default {} */
  readonly deadLetterQueues?: Readonly<Record<string, sqs.IQueue>>;
  /** Subscribed to the alarm topic by e-mail. @default no subscription */
  readonly alarmEmail?: string;
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
 * One dashboard and the alarms that matter, all notifying one SNS topic: API 5xx rate and p99
 * latency, failed executions of each pipeline, drift over the threshold, a failing /health
 * probe, and undeliverable schedule starts.
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
      description: 'Probes the predict API /health and records HealthCheckSuccess',
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
    }
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
      alarmDescription: 'Predict API /health did not answer 200 in time',
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
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
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
  if (props.alarmEmail !== undefined && !isEmailAddress(props.alarmEmail)) {
    throw new Error(`ObservabilityProps.alarmEmail must be an e-mail address (got '${props.alarmEmail}')`);
  }
  if (Object.keys(props.stateMachines).length === 0) {
    throw new Error('ObservabilityProps.stateMachines must name at least one state machine');
  }
}

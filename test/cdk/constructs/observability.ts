import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PIPELINE_METRICS } from '../../../lambdas/steps/pipeline-metrics';
import { CUSTOM_METRICS } from '../../../lib/observability';
import { PROD_ALARM_EMAIL, resourcesOfType, synthStage } from '../../support/cdk-stage';

type Json = Record<string, unknown>;

function alarms(stage: 'dev' | 'prod'): (Json & { id: string })[] {
  return Object.entries(resourcesOfType(synthStage(stage).template, 'AWS::CloudWatch::Alarm')).map(
    ([id, a]) => ({
      ...(a.Properties as Json),
      id,
    }),
  );
}

function alarm(idPrefix: string, stage: 'dev' | 'prod' = 'dev') {
  const found = alarms(stage).filter((a) => a.id.startsWith(`Observability${idPrefix}`));
  if (found.length !== 1) throw new Error(`expected one alarm ${idPrefix}, found ${found.length}`);
  return found[0] as Json;
}

describe('Observability', () => {
  it('reads the same custom metric names the functions emit', () => {
    expect(CUSTOM_METRICS.namespace).toBe(PIPELINE_METRICS.namespace);
    expect(CUSTOM_METRICS.driftScore.name).toBe(PIPELINE_METRICS.driftScore);
    expect(CUSTOM_METRICS.servedModelVersion.name).toBe(PIPELINE_METRICS.servedModelVersion);
    expect(CUSTOM_METRICS.healthCheckSuccess.name).toBe(PIPELINE_METRICS.healthCheckSuccess);
    expect(CUSTOM_METRICS.healthCheckLatency.name).toBe(PIPELINE_METRICS.healthCheckLatency);
  });

  it('alarms on the API 5xx rate and p99 latency', () => {
    expect(alarm('ServerErrorRate')).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: expect.arrayContaining([
        expect.objectContaining({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)' }),
      ]),
    });
    expect(alarm('LatencyP99')).toMatchObject({
      ExtendedStatistic: 'p99',
      MetricName: 'Latency',
      Namespace: 'AWS/ApiGateway',
      Dimensions: [{ Name: 'ApiName', Value: 'mlops-dev-predict' }],
      Threshold: 3000,
    });
  });

  it('alarms on a failed execution of each pipeline', () => {
    const failed = alarms('dev').filter((a) => a.MetricName === 'ExecutionsFailed');
    expect(failed.map((a) => a.id.replace(/PipelineFailed\w+$/, '')).sort()).toEqual(
      [
        'Observabilitydata',
        'Observabilityinference',
        'Observabilitymonitoring',
        'Observabilitytraining',
      ].sort(),
    );
    for (const a of failed) expect(a).toMatchObject({ Threshold: 0, Statistic: 'Sum', EvaluationPeriods: 1 });
  });

  it('alarms when drift goes over the configured threshold', () => {
    expect(alarm('DriftBreach')).toMatchObject({
      Namespace: 'ServerlessMlops',
      MetricName: 'DriftScore',
      Dimensions: [{ Name: 'service', Value: 'monitoring-pipeline' }],
      Threshold: 0.2,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when the scheduled /ping probe (a model is loaded) fails or stops reporting', () => {
    expect(alarm('HealthCheckFailing')).toMatchObject({
      MetricName: 'HealthCheckSuccess',
      Statistic: 'Minimum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ObservabilityHealthCheckFunction'), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'health-check',
          HEALTH_URL: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        }),
      },
    });
    const canary = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f.Properties).includes('"POWERTOOLS_SERVICE_NAME":"health-check"'),
    );
    // /health answers whenever the function runs; /ping says whether a model is loaded.
    expect(JSON.stringify(canary?.Properties)).toMatch(/\/ping"/);
  });

  it('sends every alarm to one KMS-encrypted SNS topic, TLS only', () => {
    const { template } = synthStage('dev');
    const topics = resourcesOfType(template, 'AWS::SNS::Topic');
    const [topicId] = Object.keys(topics);
    expect(Object.keys(topics)).toHaveLength(1);
    expect(topics[topicId as string]?.Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ObservabilityTopicKey/), 'Arn'],
    });
    for (const a of alarms('dev')) expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    // No alarm e-mail is configured by default in dev, so nobody is subscribed there.
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the required alarm e-mail in prod', () => {
    synthStage('prod').template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: PROD_ALARM_EMAIL,
    });
  });

  it("alarms on every function's errors and throttles", () => {
    for (const stage of ['dev', 'prod'] as const) {
      const { template } = synthStage(stage);
      const functionIds = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function'))
        .filter(([, fn]) => {
          const service = (fn.Properties.Environment as { Variables?: Json } | undefined)?.Variables
            ?.POWERTOOLS_SERVICE_NAME;
          // The MLflow database upgrade's and the webhook registration's handlers run during a
          // deployment only, and their failure fails it; the canary's failures show as missing
          // data, which HealthCheckFailing counts as a failed probe.
          return (
            service !== undefined &&
            !['mlflow-db-upgrade', 'serving-webhook-registration', 'health-check'].includes(String(service))
          );
        })
        .map(([id]) => id)
        .sort();
      const watched = (metric: string) =>
        alarms(stage)
          .filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === metric)
          .map((a) => {
            expect(a).toMatchObject({
              Threshold: 0,
              Statistic: 'Sum',
              ComparisonOperator: 'GreaterThanThreshold',
            });
            return ((a.Dimensions as { Value: { Ref: string } }[])[0] as { Value: { Ref: string } }).Value
              .Ref;
          })
          .sort();
      expect(watched('Errors')).toEqual(functionIds);
      expect(watched('Throttles')).toEqual(functionIds);
    }
  });

  it('alarms on a timed-out execution of each pipeline', () => {
    const timedOut = alarms('dev').filter((a) => a.MetricName === 'ExecutionsTimedOut');
    expect(timedOut).toHaveLength(4);
    for (const a of timedOut) expect(a).toMatchObject({ Threshold: 0, Statistic: 'Sum' });
  });

  it('alarms on the MLflow load balancer, its running tasks and the RDS database in prod', () => {
    expect(alarm('MlflowUnhealthyHosts', 'prod')).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'UnHealthyHostCount',
      Threshold: 0,
    });
    expect(alarm('MlflowLoadBalancer5xx', 'prod')).toMatchObject({ MetricName: 'HTTPCode_ELB_5XX_Count' });
    expect(alarm('MlflowServer5xx', 'prod')).toMatchObject({ MetricName: 'HTTPCode_Target_5XX_Count' });
    expect(alarm('MlflowServerTasksBelowDesired', 'prod')).toMatchObject({
      Namespace: 'ECS/ContainerInsights',
      MetricName: 'RunningTaskCount',
      Threshold: 2,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(alarm('DatabaseFreeStorage', 'prod')).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'FreeStorageSpace',
      Threshold: 2 * 1024 ** 3,
      ComparisonOperator: 'LessThanThreshold',
    });
    expect(alarm('DatabaseCpu', 'prod')).toMatchObject({ MetricName: 'CPUUtilization', Threshold: 80 });
    expect(alarm('DatabaseConnections', 'prod')).toMatchObject({ MetricName: 'DatabaseConnections' });
  });

  it('alarms when no MLflow or Postgres task runs in dev (no load balancer, no Container Insights)', () => {
    for (const name of ['MlflowServer', 'MlflowPostgres']) {
      expect(alarm(`${name}TasksBelowDesired`)).toMatchObject({
        Namespace: 'AWS/ECS',
        MetricName: 'CPUUtilization',
        Statistic: 'SampleCount',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    }
    expect(alarms('dev').filter((a) => a.Namespace === 'AWS/ApplicationELB')).toEqual([]);
  });

  it('charts API traffic, latency, errors, the served version, pipelines, drift, functions and MLflow', () => {
    const { template } = synthStage('prod');
    const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboard?.Properties.DashboardName).toBe('ServerlessMlops-prod');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const text of [
      'API requests',
      'p50',
      'p90',
      'p99',
      '4XXError',
      '5XXError',
      'ServedModelVersion',
      'ExecutionsStarted',
      'ExecutionsFailed',
      'DriftScore',
      'ExecutionsTimedOut',
      'Throttles',
      'UnHealthyHostCount',
      'RunningTaskCount',
      'FreeStorageSpace',
      'DatabaseConnections',
    ]) {
      expect(body).toContain(text);
    }
  });
});

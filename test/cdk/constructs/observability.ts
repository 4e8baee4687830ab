import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PIPELINE_METRICS } from '../../../lambdas/steps/pipeline-metrics';
import { CUSTOM_METRICS } from '../../../lib/observability';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

type Json = Record<string, unknown>;

function alarms(stage: 'dev' | 'prod'): (Json & { id: string })[] {
  return Object.entries(resourcesOfType(synthStage(stage).template, 'AWS::CloudWatch::Alarm')).map(
    ([id, a]) => ({
      ...(a.Properties as Json),
      id,
    }),
  );
}

function alarm(idPrefix: string) {
  const found = alarms('dev').filter((a) => a.id.startsWith(`Observability${idPrefix}`));
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

  it('alarms when the scheduled /health probe fails or stops reporting', () => {
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
    // No alarm e-mail is configured by default, so nobody is subscribed.
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('charts API traffic, latency percentiles, errors, the served version, pipelines and drift', () => {
    const { template } = synthStage('dev');
    const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboard?.Properties.DashboardName).toBe('ServerlessMlops-dev');
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
    ]) {
      expect(body).toContain(text);
    }
  });
});

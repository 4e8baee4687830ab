import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, ConfigError, loadStageConfig } from '../../lib/config';

const context = (values: Record<string, unknown>) => (key: string) => values[key];

describe('loadStageConfig', () => {
  it('defaults to the dev stage with the reference drift threshold', () => {
    const config = loadStageConfig(context({}));
    expect(config.stage).toBe('dev');
    expect(config.drift.threshold).toBe(0.2);
    expect(config.mlflow.database).toBe('ecs-postgres');
    expect(config.retainData).toBe(false);
  });

  it('gives prod RDS, retained data and retraining on drift', () => {
    const config = loadStageConfig(context({ stage: 'prod', alarmEmail: 'ops@example.com' }));
    expect(config.mlflow.database).toBe('rds');
    expect(config.retainData).toBe(true);
    expect(config.drift.retrainOnDrift).toBe(true);
  });

  it('applies context overrides given as strings on the command line', () => {
    const config = loadStageConfig(
      context({ driftThreshold: '0.35', retrainOnDrift: 'true', alertRecipients: 'a@x.io, b@x.io' }),
    );
    expect(config.drift.threshold).toBe(0.35);
    expect(config.drift.retrainOnDrift).toBe(true);
    expect(config.alerts.recipients).toEqual(['a@x.io', 'b@x.io']);
  });

  it('rejects an unknown stage naming the allowed ones', () => {
    expect(() => loadStageConfig(context({ stage: 'qa' }))).toThrow(
      new ConfigError('Invalid context "stage": "qa". Allowed: dev, prod.'),
    );
  });

  it('names the context key of every bad value', () => {
    const load = () =>
      loadStageConfig(
        context({ driftThreshold: '1.5', alertSender: 'not-an-email', monitoringSchedule: 'daily' }),
      );
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/context "driftThreshold" \(drift\.threshold\)/);
    expect(load).toThrow(/context "alertSender" \(alerts\.senderEmail\): must be an e-mail address/);
    expect(load).toThrow(/context "monitoringSchedule" \(schedules\.monitoring\): must be an EventBridge/);
  });

  it('writes prod as dev plus its differences', () => {
    const dev = loadStageConfig(context({}));
    const prod = loadStageConfig(context({ stage: 'prod', alarmEmail: 'ops@example.com' }));
    const differences = (a: object, b: object, prefix = ''): string[] =>
      Object.entries(a).flatMap(([key, value]) => {
        const other = (b as Record<string, unknown>)[key];
        if (typeof value === 'object' && value !== null && !Array.isArray(value))
          return differences(value, other as object, `${prefix}${key}.`);
        return JSON.stringify(value) === JSON.stringify(other) ? [] : [`${prefix}${key}`];
      });

    expect(differences(dev, prod)).toEqual([
      'stage',
      'mlflow.database',
      'mlflow.desiredCount',
      'mlflow.rdsMultiAz',
      'mlflow.spot',
      'mlflow.loadBalancer',
      'mlflow.containerInsights',
      'training.promotion',
      'predict.throttleRatePerSecond',
      'predict.throttleBurst',
      'predict.memoryMiB',
      'predict.monthlyQuota',
      'predict.waf',
      'predict.wafRequestsPerIpPer5Minutes',
      'drift.retrainOnDrift',
      'retainData',
      'logRetentionDays',
    ]);
  });

  it('takes an MLflow certificate only with the DNS name it covers, naming the missing key', () => {
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab';
    expect(
      loadStageConfig(context({ mlflowCertificateArn: arn, mlflowDomainName: 'mlflow.corp.example.com' }))
        .mlflow,
    ).toMatchObject({ certificateArn: arn, domainName: 'mlflow.corp.example.com' });
    expect(() => loadStageConfig(context({ mlflowCertificateArn: arn }))).toThrow(
      /context "mlflowDomainName": mlflowCertificateArn and mlflowDomainName go together/,
    );
    expect(() =>
      loadStageConfig(context({ mlflowCertificateArn: 'cert-1', mlflowDomainName: 'x.example.com' })),
    ).toThrow(/context "mlflowCertificateArn" \(mlflow\.certificateArn\): must be an ACM certificate ARN/);
  });

  it('applies every context key and names that same key when its value is bad', () => {
    const keys = CONTEXT_KEYS.filter((key) => key !== 'stage');
    expect(keys).toHaveLength(44);
    for (const key of keys) {
      const load = () => loadStageConfig(context({ [key]: { not: 'a setting' } }));
      expect(load, key).toThrow(new RegExp(`^Invalid dev configuration:\\n  - context "${key}" \\(`));
    }
  });

  it('authenticates predict calls with IAM by default, the API key on request and on the emulators', () => {
    const dev = loadStageConfig(context({}));
    expect(dev.predict).toMatchObject({ apiAuth: 'iam', allowedAliases: ['Challenger'], waf: false });
    expect(loadStageConfig(context({ stage: 'prod', alarmEmail: 'ops@example.com' })).predict.waf).toBe(true);
    const keyed = loadStageConfig(
      context({ apiAuth: 'api-key', allowedAliases: 'Canary, Shadow', waf: 'true' }),
    );
    expect(keyed.predict).toMatchObject({
      apiAuth: 'api-key',
      allowedAliases: ['Canary', 'Shadow'],
      waf: true,
    });
    expect(loadStageConfig(context({ localstack: 'true' })).predict.apiAuth).toBe('api-key');
    // An emulator runs the functions here, so their layer carries this machine's binaries.
    expect(loadStageConfig(context({ localstack: 'true' })).lambdaArchitecture).toBe(
      process.arch === 'arm64' ? 'arm64' : 'x86_64',
    );
    expect(loadStageConfig(context({})).lambdaArchitecture).toBe('arm64');
    expect(loadStageConfig(context({ localstack: 'true', apiAuth: 'iam' })).predict.apiAuth).toBe('iam');
    expect(() => loadStageConfig(context({ apiAuth: 'cognito' }))).toThrow(
      /context "apiAuth" \(predict\.apiAuth\)/,
    );
    expect(() => loadStageConfig(context({ allowedAliases: 'Canary,bad alias' }))).toThrow(
      /context "allowedAliases" \(predict\.allowedAliases\.1\): must be letters/,
    );
  });

  it('requires an alarm subscriber in prod, naming the setting', () => {
    expect(() => loadStageConfig(context({ stage: 'prod' }))).toThrow(
      new ConfigError(
        'Invalid prod configuration:\n  - context "alarmEmail" (alerts.alarmEmail): is required in prod so the alarms reach someone: pass -c alarmEmail=ops@example.com',
      ),
    );
  });

  it('prices nothing it cannot run: no NAT by default, Aurora that can pause, one task without a load balancer', () => {
    const dev = loadStageConfig(context({}));
    expect(dev.network.natGateways).toBe(0);
    expect(dev.mlflow).toMatchObject({ architecture: 'arm64', spot: true, loadBalancer: false });
    const aurora = loadStageConfig(
      context({
        stage: 'prod',
        alarmEmail: 'ops@example.com',
        mlflowDatabase: 'aurora-serverless',
        natGateways: '2',
      }),
    );
    expect(aurora.mlflow).toMatchObject({ database: 'aurora-serverless', auroraMinCapacity: 0 });
    expect(aurora.network.natGateways).toBe(2);
    expect(() => loadStageConfig(context({ mlflowDesiredCount: '2' }))).toThrow(
      /context "mlflowDesiredCount" \(mlflow\.desiredCount\): must be 1 without a load balancer/,
    );
    expect(() => loadStageConfig(context({ auroraMinCapacity: '4', auroraMaxCapacity: '2' }))).toThrow(
      /context "auroraMaxCapacity" \(mlflow\.auroraMaxCapacity\): must be at least auroraMinCapacity \(4\)/,
    );
    expect(() => loadStageConfig(context({ natGateways: '3' }))).toThrow(
      /context "natGateways" \(network\.natGateways\)/,
    );
  });

  it('takes the promotion modes of lambdas/core/settings.ts, and the earlier production-if-better', () => {
    expect(loadStageConfig(context({ promotion: 'production-if-better' })).training.promotion).toBe(
      'production',
    );
    expect(() => loadStageConfig(context({ promotion: 'always' }))).toThrow(
      /context "promotion" \(training\.promotion\): Invalid option: expected one of "none"\|"challenger"\|"production"/,
    );
  });
});

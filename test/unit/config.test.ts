import { describe, expect, it } from 'vitest';
import { ConfigError, loadStageConfig } from '../../lib/config';

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
    const config = loadStageConfig(context({ stage: 'prod' }));
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
});

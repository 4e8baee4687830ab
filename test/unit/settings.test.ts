/**
 * Each setting read by more than one layer has one default and one set of bounds
 * (lambdas/core/settings.ts): what the stage config accepts, the function it configures accepts too,
 * and the CLI takes the same words and numbers as the deployment.
 */
import { describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../bin/cli/run-input';
import { parseTrainOptions } from '../../bin/cli/train-command';
import { loadDriftConfig } from '../../lambdas/core/drift';
import { checkAlias, DEFAULT_ALIAS, InvalidRegistryArgumentError } from '../../lambdas/core/registry';
import {
  ALIAS_TTL_SECONDS,
  DRIFT_THRESHOLD,
  PREDICT_MAX_ROWS,
  PRODUCTION_ALIAS,
  PROMOTION_MODES,
} from '../../lambdas/core/settings';
import { loadPredictConfig, ConfigError as PredictConfigError } from '../../lambdas/predict/config';
import { ConfigError, loadStageConfig } from '../../lib/config';

const stage = (values: Record<string, unknown>) => loadStageConfig((key) => values[key]);
const PREDICT_ENV = { SERVING_BUCKET: 'mlops-serving', MODEL_NAME: 'iris' };

/** The predict function's config as the predict API construct sets its environment from the stage config. */
function predictConfigFor(context: Record<string, unknown>) {
  const { predict } = stage(context);
  return loadPredictConfig({
    ...PREDICT_ENV,
    MODEL_ALIAS: predict.modelAlias,
    ALIAS_TTL_SECONDS: String(predict.aliasTtlSeconds),
    MAX_ROWS: String(predict.maxRows),
  });
}

describe('alias TTL', () => {
  it('has the same default in the stage config and the predict function', () => {
    expect(stage({}).predict.aliasTtlSeconds).toBe(ALIAS_TTL_SECONDS.default);
    expect(loadPredictConfig(PREDICT_ENV).aliasTtlMs).toBe(ALIAS_TTL_SECONDS.default * 1000);
  });

  it('is accepted by the predict function at both ends of what the stage config accepts', () => {
    for (const ttl of [ALIAS_TTL_SECONDS.deployedMin, ALIAS_TTL_SECONDS.max]) {
      expect(predictConfigFor({ aliasTtlSeconds: String(ttl) }).aliasTtlMs).toBe(ttl * 1000);
    }
  });

  it('is refused by both one second past the maximum', () => {
    const over = String(ALIAS_TTL_SECONDS.max + 1);
    expect(() => stage({ aliasTtlSeconds: over })).toThrow(ConfigError);
    expect(() => loadPredictConfig({ ...PREDICT_ENV, ALIAS_TTL_SECONDS: over })).toThrow(
      `ALIAS_TTL_SECONDS must be at most ${ALIAS_TTL_SECONDS.max} seconds`,
    );
  });
});

describe('rows per request', () => {
  it('has the same default and maximum in the stage config and the predict function', () => {
    expect(predictConfigFor({}).maxRows).toBe(PREDICT_MAX_ROWS.default);
    expect(stage({}).predict.maxRows).toBe(PREDICT_MAX_ROWS.default);
    expect(() => loadPredictConfig({ ...PREDICT_ENV, MAX_ROWS: String(PREDICT_MAX_ROWS.max + 1) })).toThrow(
      PredictConfigError,
    );
  });
});

describe('model alias', () => {
  it('defaults to Production for the stage config, the predict function and mlops promote', () => {
    expect(stage({}).predict.modelAlias).toBe(PRODUCTION_ALIAS);
    expect(loadPredictConfig(PREDICT_ENV).modelAlias).toBe(PRODUCTION_ALIAS);
    expect(DEFAULT_ALIAS).toBe(PRODUCTION_ALIAS);
  });

  it('is refused by the stage config when the predict function or MLflow would refuse it', () => {
    expect(() => stage({ modelAlias: 'Prod uction' })).toThrow(
      /context "modelAlias" \(predict\.modelAlias\): must be letters, digits, underscores or hyphens/,
    );
    expect(() => loadPredictConfig({ ...PREDICT_ENV, MODEL_ALIAS: 'Prod uction' })).toThrow(
      PredictConfigError,
    );
    expect(() => stage({ modelAlias: 'v2' })).toThrow(/is reserved by MLflow/);
    expect(() => checkAlias('v2')).toThrow(InvalidRegistryArgumentError);
  });

  it('takes an alias the stage config accepts in the predict function and the registry', () => {
    expect(predictConfigFor({ modelAlias: 'Champion-2' }).modelAlias).toBe('Champion-2');
    expect(checkAlias('Champion-2')).toBe('Champion-2');
  });
});

describe('drift threshold', () => {
  it('has the same default in the stage config and the monitoring functions', () => {
    expect(stage({}).drift.threshold).toBe(DRIFT_THRESHOLD.default);
    expect(loadDriftConfig({}).threshold).toBe(DRIFT_THRESHOLD.default);
  });

  it.each([
    ['0', false],
    ['0.0001', true],
    ['1', true],
    ['1.01', false],
  ])(
    'is %s accepted (%s) alike by the stage config, DRIFT_THRESHOLD and mlops run monitor',
    async (value, ok) => {
      const accepted = (load: () => unknown) => {
        try {
          load();
          return true;
        } catch {
          return false;
        }
      };
      const cli = await parseRunOptions(
        'monitor',
        { driftThreshold: value, alertFrom: 'm@example.org', alertTo: 'o@example.org' },
        { landing: 'l', predictions: 'p' },
        {},
      ).then(
        () => true,
        () => false,
      );

      expect([
        accepted(() => stage({ driftThreshold: value })),
        accepted(() => loadDriftConfig({ DRIFT_THRESHOLD: value })),
        cli,
      ]).toEqual([ok, ok, ok]);
    },
  );
});

describe('promotion modes', () => {
  it('are the same words for the stage config, mlops train and mlops run train', async () => {
    for (const mode of PROMOTION_MODES) {
      expect(stage({ promotion: mode }).training.promotion).toBe(mode);
      expect(parseTrainOptions({ dataset: 'iris', promote: mode }).promote).toBe(mode);
      const run = await parseRunOptions('train', { dataset: 'iris', promote: mode }, { landing: 'l' }, {});
      expect(run.target).toMatchObject({ promotion: mode });
    }
  });

  it('read the earlier word production-if-better as production everywhere', async () => {
    expect(stage({ promotion: 'production-if-better' }).training.promotion).toBe('production');
    expect(parseTrainOptions({ dataset: 'iris', promote: 'production-if-better' }).promote).toBe(
      'production',
    );
    const run = await parseRunOptions(
      'train',
      { dataset: 'iris', promote: 'production-if-better' },
      { landing: 'l' },
      {},
    );
    expect(run.target).toMatchObject({ promotion: 'production' });
  });
});

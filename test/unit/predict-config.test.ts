import { describe, expect, it } from 'vitest';
import { ConfigError, loadPredictConfig } from '../../lambdas/predict/config';

const REQUIRED = { SERVING_BUCKET: 'mlops-serving-dev', MODEL_NAME: 'iris' };

describe('loadPredictConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadPredictConfig(REQUIRED)).toEqual({
      servingBucket: 'mlops-serving-dev',
      modelName: 'iris',
      modelAlias: 'Production',
      aliasTtlMs: 1_000,
      maxRows: 1000,
      maxBodyBytes: 1_048_576,
      allowedAliases: ['Production', 'Challenger'],
      apiAuth: 'iam',
    });
  });

  it('reads every setting, with fractional TTLs', () => {
    const config = loadPredictConfig({
      ...REQUIRED,
      MODEL_ALIAS: 'Challenger',
      ALIAS_TTL_SECONDS: '0.5',
      MAX_ROWS: '50',
      MAX_BODY_BYTES: '4096',
    });

    expect(config).toMatchObject({
      modelAlias: 'Challenger',
      aliasTtlMs: 500,
      maxRows: 50,
      maxBodyBytes: 4096,
    });
  });

  it.each([
    [{ MODEL_NAME: 'iris' }, 'SERVING_BUCKET is required (the S3 bucket of the serving manifests'],
    [
      { ...REQUIRED, SERVING_BUCKET: 's3://mlops-serving-dev' },
      'SERVING_BUCKET must be an S3 bucket name (3 to 63 lowercase letters, digits, dots or hyphens), without s3:// (got "s3://mlops-serving-dev")',
    ],
    [{ SERVING_BUCKET: 'mlops-serving-dev' }, 'MODEL_NAME is required'],
    [
      { ...REQUIRED, MODEL_ALIAS: 'Prod uction' },
      'MODEL_ALIAS must be letters, digits, underscores or hyphens (got "Prod uction")',
    ],
    [
      { ...REQUIRED, ALIAS_TTL_SECONDS: 'soon' },
      'ALIAS_TTL_SECONDS must be a number of seconds (got "soon")',
    ],
    [{ ...REQUIRED, ALIAS_TTL_SECONDS: '-1' }, 'ALIAS_TTL_SECONDS must be a positive number of seconds'],
    [{ ...REQUIRED, MAX_ROWS: '2.5' }, 'MAX_ROWS must be a positive integer (got "2.5")'],
    [{ ...REQUIRED, MAX_BODY_BYTES: '99999999' }, 'MAX_BODY_BYTES must be at most 10485760'],
    [{ ...REQUIRED, API_AUTH: 'cognito' }, 'API_AUTH must be iam or api-key (got "cognito")'],
  ])('names the variable at fault: %j', (env, message) => {
    expect(() => loadPredictConfig(env)).toThrow(ConfigError);
    expect(() => loadPredictConfig(env)).toThrow(message);
  });

  it('no longer needs or reads MLflow: a tracking URI alone is not enough', () => {
    expect(() =>
      loadPredictConfig({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', MODEL_NAME: 'iris' }),
    ).toThrow('SERVING_BUCKET is required');
  });
});

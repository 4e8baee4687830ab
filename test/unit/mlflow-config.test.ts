import { describe, expect, it } from 'vitest';
import { MlflowClient, MlflowConfigError, mlflowClientOptionsFromEnv } from '../../lambdas/core/mlflow';

describe('mlflowClientOptionsFromEnv', () => {
  it('needs MLFLOW_TRACKING_URI and says so by name', () => {
    expect(() => mlflowClientOptionsFromEnv({})).toThrow(MlflowConfigError);
    expect(() => mlflowClientOptionsFromEnv({ MLFLOW_TRACKING_URI: '  ' })).toThrow(
      /^MLFLOW_TRACKING_URI is required/,
    );
  });

  it('refuses a tracking URI that is not an http(s) URL', () => {
    for (const value of ['databricks', 'file:///tmp/mlruns', '127.0.0.1:5000']) {
      expect(() => mlflowClientOptionsFromEnv({ MLFLOW_TRACKING_URI: value })).toThrow(
        /^MLFLOW_TRACKING_URI must be an http:\/\/ or https:\/\/ URL/,
      );
    }
  });

  it('refuses a client built with a tracking URI that is not an http(s) URL', () => {
    expect(() => new MlflowClient({ trackingUri: 'databricks' })).toThrow(/^trackingUri must be an http/);
  });

  it('reads the tracking URI alone with no auth, retries or S3 settings', () => {
    expect(mlflowClientOptionsFromEnv({ MLFLOW_TRACKING_URI: 'http://mlflow.internal:5000/' })).toEqual({
      trackingUri: 'http://mlflow.internal:5000',
    });
  });

  it('reads basic auth, preferring it over a token as MLflow does', () => {
    const options = mlflowClientOptionsFromEnv({
      MLFLOW_TRACKING_URI: 'https://mlflow.example.com',
      MLFLOW_TRACKING_USERNAME: 'ci',
      MLFLOW_TRACKING_PASSWORD: 'secret',
      MLFLOW_TRACKING_TOKEN: 'tok',
    });

    expect(options.auth).toEqual({ type: 'basic', username: 'ci', password: 'secret' });
  });

  it('reads a bearer token', () => {
    const options = mlflowClientOptionsFromEnv({
      MLFLOW_TRACKING_URI: 'https://m',
      MLFLOW_TRACKING_TOKEN: 'tok',
    });

    expect(options.auth).toEqual({ type: 'bearer', token: 'tok' });
  });

  it('names the missing half of basic auth', () => {
    expect(() =>
      mlflowClientOptionsFromEnv({ MLFLOW_TRACKING_URI: 'http://m', MLFLOW_TRACKING_USERNAME: 'ci' }),
    ).toThrow(/^MLFLOW_TRACKING_PASSWORD is required when MLFLOW_TRACKING_USERNAME is set/);
    expect(() =>
      mlflowClientOptionsFromEnv({ MLFLOW_TRACKING_URI: 'http://m', MLFLOW_TRACKING_PASSWORD: 'x' }),
    ).toThrow(/^MLFLOW_TRACKING_USERNAME is required/);
  });

  it("reads MLflow's retry and timeout variables and names a bad one", () => {
    const options = mlflowClientOptionsFromEnv({
      MLFLOW_TRACKING_URI: 'http://m',
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
      MLFLOW_HTTP_REQUEST_TIMEOUT: '2.5',
    });

    expect(options.retry).toEqual({ attempts: 1 });
    expect(options.timeoutMs).toBe(2500);
    expect(() =>
      mlflowClientOptionsFromEnv({
        MLFLOW_TRACKING_URI: 'http://m',
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: 'three',
      }),
    ).toThrow(/^MLFLOW_HTTP_REQUEST_MAX_RETRIES must be a whole number/);
    expect(() =>
      mlflowClientOptionsFromEnv({ MLFLOW_TRACKING_URI: 'http://m', MLFLOW_HTTP_REQUEST_TIMEOUT: '0' }),
    ).toThrow(/^MLFLOW_HTTP_REQUEST_TIMEOUT must be a number of seconds above 0/);
  });

  it('takes the S3 endpoint from MLFLOW_S3_ENDPOINT_URL, then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL', () => {
    const base = { MLFLOW_TRACKING_URI: 'http://m', AWS_REGION: 'eu-west-1' };

    expect(mlflowClientOptionsFromEnv({ ...base, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }).s3).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'eu-west-1',
    });
    expect(
      mlflowClientOptionsFromEnv({
        ...base,
        AWS_ENDPOINT_URL: 'http://a:1',
        AWS_ENDPOINT_URL_S3: 'http://b:2',
        MLFLOW_S3_ENDPOINT_URL: 'http://c:3',
      }).s3?.endpoint,
    ).toBe('http://c:3');
    expect(
      mlflowClientOptionsFromEnv({ ...base, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'secret' }).s3,
    ).toEqual({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'secret' } });
    expect(() => mlflowClientOptionsFromEnv({ ...base, AWS_ENDPOINT_URL: 'localhost:4566' })).toThrow(
      /^AWS_ENDPOINT_URL must be an http/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { MlflowConfigError } from '../../lambdas/core/mlflow';
import {
  passwordFromSecretString,
  resolvePasswordSecret,
  secretRegion,
  secretsManagerEndpoint,
} from '../../lambdas/core/mlflow/secret-password';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:MlflowPipelinesSecret-AbCdEf';

describe('the MLflow password from Secrets Manager', () => {
  it('takes the region from the secret ARN and names the variable when it is not one', () => {
    expect(secretRegion(ARN)).toBe('eu-west-1');
    expect(() => secretRegion('pipelines-secret')).toThrow(MlflowConfigError);
    expect(() => secretRegion('pipelines-secret')).toThrow(
      /MLFLOW_TRACKING_PASSWORD_SECRET_ARN.*must be a Secrets Manager secret ARN, got 'pipelines-secret'/,
    );
  });

  it('reads the password field of the secret JSON, and says so when there is none', () => {
    expect(passwordFromSecretString(ARN, '{"username":"pipelines","password":"s3cret-s3cret"}')).toBe(
      's3cret-s3cret',
    );
    for (const bad of ['{"username":"pipelines"}', 'not json', undefined, '{"password":""}']) {
      expect(() => passwordFromSecretString(ARN, bad)).toThrow(
        `the secret ${ARN} has no "password" string field`,
      );
    }
  });

  it('leaves the environment alone without a secret ARN, or with a password already set', async () => {
    const none: Record<string, string | undefined> = { MLFLOW_TRACKING_USERNAME: 'pipelines' };
    await resolvePasswordSecret(none);
    expect(none.MLFLOW_TRACKING_PASSWORD).toBeUndefined();
    const given: Record<string, string | undefined> = {
      MLFLOW_TRACKING_PASSWORD_SECRET_ARN: ARN,
      MLFLOW_TRACKING_PASSWORD: 'from-the-environment',
    };
    await resolvePasswordSecret(given);
    expect(given.MLFLOW_TRACKING_PASSWORD).toBe('from-the-environment');
  });

  it('calls the Secrets Manager endpoint the environment names, as the AWS SDKs do', () => {
    const region = 'eu-west-1';
    expect(secretsManagerEndpoint({}, region)).toBe('https://secretsmanager.eu-west-1.amazonaws.com');
    expect(secretsManagerEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, region)).toBe(
      'http://127.0.0.1:4566',
    );
    expect(
      secretsManagerEndpoint(
        { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://sm:1' },
        region,
      ),
    ).toBe('http://sm:1');
  });

  it('refuses a malformed ARN before any call', async () => {
    await expect(resolvePasswordSecret({ MLFLOW_TRACKING_PASSWORD_SECRET_ARN: 'nope' })).rejects.toThrow(
      /must be a Secrets Manager secret ARN/,
    );
  });
});

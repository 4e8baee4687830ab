/**
 * The client's options from environment variables, with MLflow's own variable names, validated
 * once at start-up: a bad value fails with a message naming the variable.
 */

import type { MlflowClientOptions } from './client';
import { MlflowConfigError } from './errors';
import { resolvePasswordSecret } from './secret-password';
import type { MlflowAuth } from './transport';

// On AWS the stack hands out the password as a secret's ARN: read it once, when this module
// loads (a Lambda's cold start), so every client built from the environment authenticates.
await resolvePasswordSecret();

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads:
 * - `MLFLOW_TRACKING_URI` (required): the tracking server, an `http://` or `https://` URL;
 * - `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD` (basic auth, both or neither; on
 *   AWS the password comes from the secret `MLFLOW_TRACKING_PASSWORD_SECRET_ARN` names, read at
 *   start-up by `secret-password.ts`), or
 *   `MLFLOW_TRACKING_TOKEN` (bearer); basic wins when both are set, as in MLflow's Python client;
 * - `MLFLOW_HTTP_REQUEST_MAX_RETRIES` (retries after the first attempt, default 2) and
 *   `MLFLOW_HTTP_REQUEST_TIMEOUT` (seconds per attempt, default 30) — MLflow's names, smaller
 *   defaults than its Python client's (7 retries, 120 s), which would outlast a Lambda invocation;
 * - the S3 endpoint for `s3://` artifacts: `MLFLOW_S3_ENDPOINT_URL`, else `AWS_ENDPOINT_URL_S3`,
 *   else `AWS_ENDPOINT_URL` (path-style addressing is used with any of them), and `AWS_REGION` /
 *   `AWS_DEFAULT_REGION`, and `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`
 *   when both keys are set (so an env object other than `process.env` is honoured too; without
 *   them the SDK's default chain applies).
 */
export function mlflowClientOptionsFromEnv(env: Environment = process.env): MlflowClientOptions {
  const trackingUri = httpUrl(
    env,
    'MLFLOW_TRACKING_URI',
    'the MLflow tracking server, e.g. http://127.0.0.1:5000',
  );
  if (trackingUri === undefined) {
    throw new MlflowConfigError(
      'MLFLOW_TRACKING_URI',
      'is required: the MLflow tracking server URL, e.g. http://127.0.0.1:5000',
    );
  }
  const retries = nonNegativeInteger(env, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES');
  const timeoutSeconds = positiveNumber(env, 'MLFLOW_HTTP_REQUEST_TIMEOUT');
  const s3Endpoint =
    httpUrl(env, 'MLFLOW_S3_ENDPOINT_URL', 'the S3 endpoint') ??
    httpUrl(env, 'AWS_ENDPOINT_URL_S3', 'the S3 endpoint') ??
    httpUrl(env, 'AWS_ENDPOINT_URL', 'the AWS endpoint');
  const region = nonEmpty(env, 'AWS_REGION') ?? nonEmpty(env, 'AWS_DEFAULT_REGION');
  const accessKeyId = nonEmpty(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = nonEmpty(env, 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = nonEmpty(env, 'AWS_SESSION_TOKEN');
  const credentials =
    accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) }
      : undefined;
  const auth = authFromEnv(env);
  return {
    trackingUri,
    ...(auth && { auth }),
    ...(retries !== undefined && { retry: { attempts: retries + 1 } }),
    ...(timeoutSeconds !== undefined && { timeoutMs: Math.round(timeoutSeconds * 1000) }),
    ...((s3Endpoint || region || credentials) && {
      s3: {
        ...(s3Endpoint && { endpoint: s3Endpoint }),
        ...(region && { region }),
        ...(credentials && { credentials }),
      },
    }),
  };
}

function authFromEnv(env: Environment): MlflowAuth | undefined {
  const username = nonEmpty(env, 'MLFLOW_TRACKING_USERNAME');
  const password = env.MLFLOW_TRACKING_PASSWORD;
  if (username !== undefined && password === undefined) {
    throw new MlflowConfigError(
      'MLFLOW_TRACKING_PASSWORD',
      'is required when MLFLOW_TRACKING_USERNAME is set',
    );
  }
  if (username === undefined && password !== undefined) {
    throw new MlflowConfigError(
      'MLFLOW_TRACKING_USERNAME',
      'is required when MLFLOW_TRACKING_PASSWORD is set',
    );
  }
  if (username !== undefined && password !== undefined) return { type: 'basic', username, password };
  const token = nonEmpty(env, 'MLFLOW_TRACKING_TOKEN');
  return token === undefined ? undefined : { type: 'bearer', token };
}

function nonEmpty(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function httpUrl(env: Environment, name: string, meaning: string): string | undefined {
  const value = nonEmpty(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MlflowConfigError(name, `must be an http:// or https:// URL (${meaning}), got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MlflowConfigError(name, `must be an http:// or https:// URL (${meaning}), got '${value}'`);
  }
  return value.replace(/\/+$/, '');
}

function nonNegativeInteger(env: Environment, name: string): number | undefined {
  const value = nonEmpty(env, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new MlflowConfigError(name, `must be a whole number of 0 or more, got '${value}'`);
  return Number(value);
}

function positiveNumber(env: Environment, name: string): number | undefined {
  const value = nonEmpty(env, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new MlflowConfigError(name, `must be a number of seconds above 0, got '${value}'`);
  }
  return number;
}

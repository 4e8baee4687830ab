/**
 * MLflow's password from Secrets Manager, read once when the code starts (a Lambda's cold start,
 * the SageMaker trainer's start): the stack gives a function `MLFLOW_TRACKING_USERNAME` and
 * `MLFLOW_TRACKING_PASSWORD_SECRET_ARN` (a secret `{"username": …, "password": …}` from
 * lib/mlflow-service.ts), never the password itself, and this module puts the password in
 * `MLFLOW_TRACKING_PASSWORD`, where `mlflowClientOptionsFromEnv` and MLflow's Python client read it.
 *
 * A signed GetSecretValue call over `fetch` (Signature V4 from @smithy/signature-v4, credentials
 * from the SDK's default chain): the project does not depend on @aws-sdk/client-secrets-manager.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { MlflowConfigError } from './errors';

export const PASSWORD_SECRET_VARIABLE = 'MLFLOW_TRACKING_PASSWORD_SECRET_ARN';

type Env = Record<string, string | undefined>;

/** A Secrets Manager secret ARN: `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`. */
export function secretRegion(arn: string, variable = PASSWORD_SECRET_VARIABLE): string {
  const match = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/.exec(arn);
  if (!match?.[1]) {
    throw new MlflowConfigError(variable, `must be a Secrets Manager secret ARN, got '${arn}'`);
  }
  return match[1];
}

/** The password field of the secret's JSON string, checked. */
export function passwordFromSecretString(arn: string, secretString: unknown): string {
  let parsed: unknown;
  try {
    parsed = typeof secretString === 'string' ? JSON.parse(secretString) : undefined;
  } catch {
    parsed = undefined;
  }
  const password = (parsed as { password?: unknown } | undefined)?.password;
  if (typeof password !== 'string' || password === '') {
    throw new MlflowConfigError(PASSWORD_SECRET_VARIABLE, `the secret ${arn} has no "password" string field`);
  }
  return password;
}

/** node:crypto as the SHA-256 (and HMAC) SignatureV4 needs. */
export class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    throw new Error('not used by SignatureV4');
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Reads the secret's password with a signed `secretsmanager:GetSecretValue` call. */
export async function fetchSecretPassword(arn: string, env: Env = process.env): Promise<string> {
  return passwordFromSecretString(arn, await fetchSecretString(arn, env));
}

/** As the AWS SDKs pick endpoints: the service's own variable, then the global one (emulators set it). */
export function secretsManagerEndpoint(env: Env, region: string): string {
  return (
    env.AWS_ENDPOINT_URL_SECRETS_MANAGER?.trim() ||
    env.AWS_ENDPOINT_URL?.trim() ||
    `https://secretsmanager.${region}.amazonaws.com`
  );
}

/**
 * The SecretString of a secret, with a signed `secretsmanager:GetSecretValue` call; errors name
 * `variable`, the environment variable that gave the ARN.
 */
export async function fetchSecretString(
  arn: string,
  env: Env = process.env,
  variable = PASSWORD_SECRET_VARIABLE,
): Promise<unknown> {
  const region = secretRegion(arn, variable);
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const url = new URL(secretsManagerEndpoint(env, region));
  const body = JSON.stringify({ SecretId: arn });
  const signer = new SignatureV4({
    service: 'secretsmanager',
    region,
    credentials: defaultProvider(),
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port && { port: Number(url.port) }),
    path: url.pathname,
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
    },
    body,
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new MlflowConfigError(
      variable,
      `could not read ${arn}: HTTP ${response.status} ${text.slice(0, 200)}`,
    );
  }
  return (JSON.parse(text) as { SecretString?: unknown }).SecretString;
}

/**
 * Sets MLFLOW_TRACKING_PASSWORD from the secret when the environment names one and has no
 * password of its own; does nothing otherwise (locally, in tests).
 */
export async function resolvePasswordSecret(env: Env = process.env): Promise<void> {
  const arn = env[PASSWORD_SECRET_VARIABLE]?.trim();
  if (!arn || env.MLFLOW_TRACKING_PASSWORD !== undefined) return;
  env.MLFLOW_TRACKING_PASSWORD = await fetchSecretPassword(arn, env);
}

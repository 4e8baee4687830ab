/**
 * The local MLflow's webhook keys, generated once into the state directory (0600) like the auth
 * file: the Fernet key MLflow encrypts stored webhook secrets with (every worker and every
 * restart must use the same one, or a stored secret can no longer be read), and the HMAC secret
 * the local webhook is registered with and `npm run serve` verifies deliveries against.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localDir } from './local-paths';
import { ServiceStartError } from './service-error';

export interface WebhookKeys {
  /** MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: 32 bytes, URL-safe base64 (a Fernet key). */
  readonly encryptionKey: string;
  /** The HMAC secret of the local webhook (MLFLOW_WEBHOOK_SECRET). */
  readonly secret: string;
}

export function webhookKeysFile(dir: string = localDir()): string {
  return join(dir, 'mlflow-webhook.json');
}

/** The stored keys, generated and written (0600) the first time. */
export function ensureWebhookKeys(dir: string = localDir()): WebhookKeys {
  const file = webhookKeysFile(dir);
  if (existsSync(file)) {
    let parsed: Partial<Record<keyof WebhookKeys, unknown>>;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new ServiceStartError(
        `${file} is not JSON; delete it and the local MLflow's webhooks to start over`,
      );
    }
    const { encryptionKey, secret } = parsed;
    if (typeof encryptionKey !== 'string' || Buffer.from(encryptionKey, 'base64url').length !== 32) {
      throw new ServiceStartError(`${file}: encryptionKey must be 32 bytes in URL-safe base64`);
    }
    if (typeof secret !== 'string' || secret.length < 16) {
      throw new ServiceStartError(`${file}: secret is missing or shorter than 16 characters`);
    }
    return { encryptionKey, secret };
  }
  const created: WebhookKeys = {
    // Fernet wants the padded URL-safe alphabet.
    encryptionKey: randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'),
    secret: randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return created;
}

/**
 * The webhook settings of the local `mlflow server`: the stable encryption key, and the
 * allowances a loopback receiver (`npm run serve` on 127.0.0.1, plain http) needs — MLflow refuses
 * private addresses and http by default. MLFLOW_WEBHOOK_CACHE_TTL is shortened from 60 s so a
 * webhook registered after a move is used within seconds, not a minute.
 */
export function mlflowWebhookEnv(dir: string = localDir()): Record<string, string> {
  return {
    MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: ensureWebhookKeys(dir).encryptionKey,
    MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS: 'true',
    MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http,https',
    MLFLOW_WEBHOOK_CACHE_TTL: '5',
  };
}

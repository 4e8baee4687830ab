/**
 * The predict function's settings, read once from the environment at cold start. A bad value
 * stops the function there with a message naming the variable and what it accepts. The function
 * reads only the serving bucket (SERVING_BUCKET): its S3 client takes the region and endpoint
 * from the AWS SDK's usual variables (registry.ts). It never calls MLflow.
 */
import { z } from 'zod';
import {
  ALIAS_NAME_PATTERN,
  ALIAS_NAME_RULE,
  ALIAS_TTL_SECONDS,
  PREDICT_MAX_ROWS,
  PRODUCTION_ALIAS,
} from '../core/settings';

/**
 * How callers of `/predict` and `/status` authenticate: `iam` (SigV4, API Gateway's AWS_IAM
 * authorization; the default) or `api-key` (an API Gateway key, metering rather than identity).
 */
export const API_AUTH_MODES = ['iam', 'api-key'] as const;
export type ApiAuthMode = (typeof API_AUTH_MODES)[number];

/** The alias besides the served one that `?alias=` takes unless ALLOWED_ALIASES says otherwise. */
export const SHADOW_ALIAS = 'Challenger';

export interface PredictConfig {
  /** The bucket of the serving manifests and model copies (lambdas/core/serving-manifest). */
  readonly servingBucket: string;
  readonly modelName: string;
  readonly modelAlias: string;
  readonly aliasTtlMs: number;
  readonly maxRows: number;
  readonly maxBodyBytes: number;
  /**
   * The aliases `?alias=` may name (the served alias always among them); any other is a 404
   * answered without a registry call.
   */
  readonly allowedAliases: readonly string[];
  /** How the API in front of the function authenticates callers (documented in /openapi.json). */
  readonly apiAuth: ApiAuthMode;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** API Gateway allows 10 MB, a synchronous Lambda invocation 6 MB; a scoring request needs far less. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function withDefault<T extends z.ZodType>(schema: T, fallback: string) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() ? value.trim() : fallback),
    schema,
  );
}

const ENV = z.object({
  SERVING_BUCKET: z
    .string({ error: 'is required (the S3 bucket of the serving manifests, serving/<model>/<alias>.json)' })
    .trim()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'must be an S3 bucket name (3 to 63 lowercase letters, digits, dots or hyphens), without s3://',
    ),
  MODEL_NAME: z
    .string({ error: 'is required (the registered model name in MLflow)' })
    .trim()
    .min(1, 'is required (the registered model name in MLflow)'),
  MODEL_ALIAS: withDefault(
    z.string().regex(ALIAS_NAME_PATTERN, 'must be letters, digits, underscores or hyphens'),
    PRODUCTION_ALIAS,
  ),
  ALIAS_TTL_SECONDS: withDefault(
    z.coerce
      .number({ error: 'must be a number of seconds' })
      .positive('must be a positive number of seconds')
      .max(ALIAS_TTL_SECONDS.max, `must be at most ${ALIAS_TTL_SECONDS.max} seconds`),
    String(ALIAS_TTL_SECONDS.default),
  ),
  MAX_ROWS: withDefault(
    z.coerce
      .number({ error: 'must be a positive integer' })
      .int('must be a positive integer')
      .min(1, 'must be a positive integer')
      .max(PREDICT_MAX_ROWS.max, `must be at most ${PREDICT_MAX_ROWS.max}`),
    String(PREDICT_MAX_ROWS.default),
  ),
  MAX_BODY_BYTES: withDefault(
    z.coerce
      .number({ error: 'must be a positive integer number of bytes' })
      .int('must be a positive integer number of bytes')
      .min(64, 'must be at least 64 bytes')
      .max(10 * 1024 * 1024, 'must be at most 10485760 (the API Gateway payload limit)'),
    String(DEFAULT_MAX_BODY_BYTES),
  ),
  ALLOWED_ALIASES: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((alias) => alias.trim())
        .filter((alias) => alias !== ''),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(ALIAS_NAME_PATTERN, `must be a comma-separated list of aliases (${ALIAS_NAME_RULE})`),
      ),
    ),
  API_AUTH: withDefault(z.enum(API_AUTH_MODES, { error: `must be ${API_AUTH_MODES.join(' or ')}` }), 'iam'),
});

export function loadPredictConfig(env: NodeJS.ProcessEnv = process.env): PredictConfig {
  const parsed = ENV.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const value = env[variable];
      return `${variable} ${issue.message}${value !== undefined ? ` (got ${JSON.stringify(value)})` : ''}`;
    });
    throw new ConfigError(`Invalid predict configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    servingBucket: e.SERVING_BUCKET,
    modelName: e.MODEL_NAME,
    modelAlias: e.MODEL_ALIAS,
    aliasTtlMs: Math.round(e.ALIAS_TTL_SECONDS * 1000),
    maxRows: e.MAX_ROWS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    allowedAliases: allowedAliases(e.MODEL_ALIAS, e.ALLOWED_ALIASES),
    apiAuth: e.API_AUTH,
  };
}

/** The served alias first, then the listed ones (default: `Challenger`), without repeats. */
export function allowedAliases(served: string, listed: readonly string[]): string[] {
  return [...new Set([served, ...(listed.length > 0 ? listed : [SHADOW_ALIAS])])];
}

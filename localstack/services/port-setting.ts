/**
 * A port number from an environment variable, checked: a typo in MLOPS_MLFLOW_PORT should stop
 * with the variable's name, not start a server on NaN.
 */
import { ServiceStartError } from './service-error';

export function portFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  failure: new (message: string) => Error,
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new failure(`${name} must be a port number (1-65535), got "${raw}"`);
  }
  return value;
}

export interface ServicePorts {
  readonly postgres: number;
  readonly aws: number;
  readonly mlflow: number;
}

/** The local services' ports, read when called, so a bad value fails `up()` rather than an import. */
export function servicePorts(env: NodeJS.ProcessEnv = process.env): ServicePorts {
  return {
    postgres: portFromEnv(env, 'MLOPS_POSTGRES_PORT', 55432, ServiceStartError),
    aws: portFromEnv(env, 'MLOPS_AWS_PORT', 4566, ServiceStartError),
    mlflow: portFromEnv(env, 'MLOPS_MLFLOW_PORT', 5000, ServiceStartError),
  };
}

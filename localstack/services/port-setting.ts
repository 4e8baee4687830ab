/**
 * A port number from an environment variable, checked: a typo in MLOPS_MLFLOW_PORT should stop
 * with the variable's name, not start a server on NaN.
 */
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

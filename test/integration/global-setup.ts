import type { TestProject } from 'vitest/node';
import { down, endpoints, type LocalServiceEnv, up } from '../../localstack/services/services';

declare module 'vitest' {
  export interface ProvidedContext {
    localEnv: LocalServiceEnv;
  }
}

/**
 * Starts the local services (or reuses running ones) before the integration files run, and
 * stops them afterwards only if this run started them.
 */
export default async function setup(project: TestProject) {
  const alreadyUp = await isUp(`${endpoints('postgres').MLFLOW_TRACKING_URI}/health`);
  const env = await up({ log: (line) => process.stderr.write(`[local] ${line}\n`) });
  Object.assign(process.env, env);
  project.provide('localEnv', env);
  return async () => {
    if (!alreadyUp && !process.env.MLOPS_KEEP_SERVICES) await down();
  };
}

async function isUp(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

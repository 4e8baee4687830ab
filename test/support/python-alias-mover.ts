/**
 * MLflow's Python client in one long-lived process, moving aliases the way a user does outside
 * this project (a notebook, a script): each `move` is one `set_registered_model_alias` call.
 * One process for all the moves keeps Python's start (~2 s) out of the measured latencies.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { VENV_BIN } from '../../localstack/services/local-paths';
import { pythonEnv } from './predict-fixtures';

export interface PythonAliasMover {
  /** Resolves once the client is imported and ready. */
  ready(): Promise<void>;
  /** Moves the alias; answers the epoch milliseconds taken just before the call. */
  move(alias: string, version: string): Promise<number>;
  close(): void;
}

export function pythonAliasMover(model: string, env: NodeJS.ProcessEnv): PythonAliasMover {
  const script = [
    'import sys, time, mlflow',
    'c = mlflow.MlflowClient()',
    'print("ready", flush=True)',
    'for line in sys.stdin:',
    '    alias, version = line.split()',
    '    t = time.time()',
    `    c.set_registered_model_alias(${JSON.stringify(model)}, alias, version)`,
    '    print(f"moved {t * 1000:.0f}", flush=True)',
  ].join('\n');
  const child = spawn(`${VENV_BIN}/python`, ['-c', script], {
    env: { ...pythonEnv(), ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the Python alias mover ended');
    return value as string;
  };
  return {
    ready: async () => {
      const line = await next();
      if (line !== 'ready') throw new Error(`the Python alias mover said '${line}'`);
    },
    move: async (alias, version) => {
      child.stdin.write(`${alias} ${version}\n`);
      return Number((await next()).replace('moved ', ''));
    },
    close: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

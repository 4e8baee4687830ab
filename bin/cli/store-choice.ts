/**
 * Which backend store the local MLflow runs on, decided one way for `mlops local up` (npm run
 * local:up), `npm run demo` and `mlops run`: the store already running, else Postgres where it is
 * installed, else SQLite. Only an explicit `--store` switches a running MLflow to the other store,
 * and then it says what that does (MLflow restarts; what was logged on the other store is not
 * shown until it is switched back).
 */
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { BackendStore } from '../../localstack/services/services';
import { CliError } from './output';

export const BACKEND_STORES: readonly BackendStore[] = ['postgres', 'sqlite'];

export interface StoreChoice {
  readonly store: BackendStore;
  /** A line for people when the choice is not the obvious one (a switch, or no Postgres). */
  readonly note?: string;
}

export function chooseBackendStore(
  flag: string | undefined,
  running: BackendStore | undefined,
  postgresInstalled: () => boolean = isPostgresInstalled,
): StoreChoice {
  if (flag !== undefined) {
    if (!(BACKEND_STORES as readonly string[]).includes(flag)) {
      throw new CliError(`--store must be ${BACKEND_STORES.join(' or ')}, got "${flag}"`, 2);
    }
    const store = flag as BackendStore;
    if (running !== undefined && running !== store) {
      return {
        store,
        note: `switching MLflow from its ${running} store to ${store}: it restarts, and the experiments, runs and models logged on ${running} (and links to them) are not shown until you switch back with --store ${running}`,
      };
    }
    return { store };
  }
  if (running !== undefined) return { store: running };
  if (postgresInstalled()) return { store: 'postgres' };
  return {
    store: 'sqlite',
    note: 'PostgreSQL is not installed: MLflow runs on SQLite (.local/mlflow.db); install PostgreSQL and pass --store postgres to move to it',
  };
}

/** pg_ctl on the PATH or in Debian's /usr/lib/postgresql/<version>/bin (as localstack/setup.sh looks). */
export function isPostgresInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'pg_ctl'))) return true;
  }
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return false;
  return readdirSync(base).some((version) => existsSync(join(base, version, 'bin', 'pg_ctl')));
}

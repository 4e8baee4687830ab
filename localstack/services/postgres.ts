/**
 * The MLflow backend store: Debian's PostgreSQL on a project-owned cluster in `<state dir>/postgres`,
 * never the system one, with a `mlflow` role and database.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localDir, logFile } from './local-paths';
import { isPortOpen, tail } from './processes';
import { ServiceStartError } from './service-error';

function findPgBin(name: string): string | undefined {
  const fromPath = spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (fromPath) return fromPath;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', name)))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin', name) : undefined;
}

/** Postgres refuses to run as root: as root, run its tools as the `postgres` system user. */
function runAsPostgresOwner(
  bin: string,
  args: string[],
  opts: { allowFailure?: boolean } = {},
): { status: number; output: string } {
  const asRoot = process.getuid?.() === 0;
  const [cmd, fullArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(cmd, fullArgs, { encoding: 'utf8' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0 && !opts.allowFailure) {
    throw new ServiceStartError(`${bin} ${args.join(' ')} failed:\n${output}`);
  }
  return { status: result.status ?? 1, output };
}

export async function startPostgres(port: number, log: (line: string) => void): Promise<void> {
  const dataDir = join(localDir(), 'postgres');
  const logPath = logFile('postgres');
  if (await isPortOpen(port)) {
    if (existsSync(join(dataDir, 'postmaster.pid'))) {
      log(`postgres already up on 127.0.0.1:${port}`);
      await ensureMlflowDatabase(port);
      return;
    }
    throw new ServiceStartError(
      `port ${port} is taken by another process; set MLOPS_POSTGRES_PORT to a free port`,
    );
  }
  const initdb = findPgBin('initdb');
  const pgCtl = findPgBin('pg_ctl');
  if (!initdb || !pgCtl)
    throw new ServiceStartError('PostgreSQL is not installed: run bash localstack/setup.sh');
  const asRoot = process.getuid?.() === 0;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log('initialising a project-local Postgres cluster in .local/postgres');
    mkdirSync(dataDir, { recursive: true });
    if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
    runAsPostgresOwner(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  }
  // The log file must be writable by the server's user.
  writeFileSync(logPath, '', { flag: 'a' });
  if (asRoot) execFileSync('chown', ['postgres:postgres', logPath]);
  rmSync(join(dataDir, 'postmaster.pid'), { force: true });
  log(`starting postgres on 127.0.0.1:${port}`);
  // Small shared buffers (Debian's default is 128 MB): MLflow's tables are a few megabytes, and every
  // backend's RSS counts the shared pages it touched.
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir} -c fsync=off -c shared_buffers=16MB`;
  const started = runAsPostgresOwner(
    pgCtl,
    ['-D', dataDir, '-l', logPath, '-w', '-t', '60', '-o', serverOptions, 'start'],
    { allowFailure: true },
  );
  if (started.status !== 0) {
    throw new ServiceStartError(`postgres did not start:\n${started.output}\n${tail(logPath)}`);
  }
  await ensureMlflowDatabase(port);
}

export function stopPostgres(log: (line: string) => void): void {
  const dataDir = join(localDir(), 'postgres');
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return;
  log('stopping postgres');
  runAsPostgresOwner(findPgBin('pg_ctl') ?? 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'], {
    allowFailure: true,
  });
}

async function ensureMlflowDatabase(port: number): Promise<void> {
  const psql = findPgBin('psql') ?? 'psql';
  const query = (sql: string, db = 'postgres') =>
    spawnSync(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-tAc', sql], {
      encoding: 'utf8',
    });
  const hasRole = query("SELECT 1 FROM pg_roles WHERE rolname='mlflow'").stdout.trim() === '1';
  if (!hasRole) query('CREATE ROLE mlflow LOGIN');
  const hasDb = query("SELECT 1 FROM pg_database WHERE datname='mlflow'").stdout.trim() === '1';
  if (!hasDb) {
    const created = query('CREATE DATABASE mlflow OWNER mlflow');
    if (created.status !== 0)
      throw new ServiceStartError(`could not create the mlflow database: ${created.stderr}`);
  }
}

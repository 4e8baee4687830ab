/**
 * MLflow's database role and the alternating-users rotation, against the local Postgres: the
 * task's bootstrap (docker/mlflow/db_roles.py, run as an RDS-like master: LOGIN CREATEROLE, not a
 * superuser) creates MLflow's role and hands it the tables MLflow created as the master; the SQL the
 * multi-user rotation function runs creates the clone; the backend store URI the container
 * entrypoint builds (docker/mlflow/entrypoint.sh) then lets the clone work on the role's tables and
 * create new ones the role owns; with verify-full the entrypoint insists on TLS.
 *
 * Local Postgres is Debian's 15; RDS and Aurora run 16, whose GRANT options db_roles.py sets.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MLFLOW_DB_ROLE } from '../../lib/mlflow-database';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { VENV_BIN } from '../../localstack/services/local-paths';

const suffix = randomBytes(4).toString('hex');
const master = `rds_master_${suffix}`;
const database = `mlflow_roles_${suffix}`;
// Roles are cluster-wide: a name of this run's own, with the clone the rotation function would make.
const role = `${MLFLOW_DB_ROLE}_${suffix}`;
const clone = `${role}_clone`;

let host = '';
let port = '';

function psql(sql: string, user = 'postgres', db = 'postgres'): string {
  const result = spawnSync(
    'psql',
    ['-h', host, '-p', port, '-U', user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-tAc', sql],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`psql as ${user} failed: ${sql}\n${result.stderr}`);
  return result.stdout.trim();
}

function owners(): Record<string, string> {
  const rows = psql(
    "SELECT c.relname || '=' || pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S') ORDER BY 1",
    'postgres',
    database,
  );
  return Object.fromEntries(rows.split('\n').map((row) => row.split('=') as [string, string]));
}

function dbRoles(user: string) {
  return spawnSync(join(VENV_BIN, 'python'), [join(PROJECT_ROOT, 'docker/mlflow/db_roles.py')], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      DB_HOST: host,
      DB_PORT: port,
      DB_NAME: database,
      DB_ROLE: role,
      DB_MASTER_USER: master,
      DB_MASTER_PASSWORD: 'unused-local-trust-auth',
      DB_USER: user,
      DB_PASSWORD: 'unused-local-trust-auth',
    },
  });
}

/**
 * The backend store URI the entrypoint hands `mlflow server`: a stand-in `mlflow` on the PATH
 * prints its arguments, and a users script that does nothing stands in for mlflow_users.py.
 */
function entrypointBackendUri(env: Record<string, string>): {
  status: number | null;
  uri: string;
  stderr: string;
} {
  const bin = mkdtempSync(join(tmpdir(), 'db-roles-bin-'));
  writeFileSync(join(bin, 'mlflow'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
  chmodSync(join(bin, 'mlflow'), 0o755);
  writeFileSync(join(bin, 'users.py'), '');
  const result = spawnSync('sh', [join(PROJECT_ROOT, 'docker/mlflow/entrypoint.sh')], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${VENV_BIN}:${process.env.PATH}`,
      DB_HOST: host,
      DB_PORT: port,
      DB_NAME: database,
      DB_PASSWORD: 'unused-local-trust-auth',
      ARTIFACTS_BUCKET: 'bucket',
      MLFLOW_AUTH_ADMIN_USERNAME: 'admin',
      MLFLOW_AUTH_ADMIN_PASSWORD: 'x',
      MLFLOW_FLASK_SERVER_SECRET_KEY: 'x',
      MLFLOW_PIPELINES_PASSWORD: 'x',
      MLFLOW_READER_PASSWORD: 'x',
      MLFLOW_USERS_SCRIPT: join(bin, 'users.py'),
      ...env,
    },
  });
  const args = result.stdout.split('\n');
  const uri = args[args.indexOf('--backend-store-uri') + 1] ?? '';
  return { status: result.status, uri, stderr: result.stderr };
}

/** Runs SQL through SQLAlchemy on `uri` in one transaction, as MLflow's store connects; the rows of each query. */
function sqlAlchemy(uri: string, statements: string[]): unknown[] {
  const script = `
import json, sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
rows = []
with engine.begin() as connection:
    for statement in sys.argv[2:]:
        result = connection.execute(text(statement))
        if result.returns_rows:
            rows.append([list(row) for row in result])
print(json.dumps(rows))
`;
  const result = spawnSync(join(VENV_BIN, 'python'), ['-c', script, uri, ...statements], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`SQLAlchemy on ${uri} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as unknown[];
}

describe("MLflow's database role under the alternating-users rotation", () => {
  beforeAll(() => {
    const url = new URL(inject('localEnv').DATABASE_URL);
    host = url.hostname;
    port = url.port;
    // An RDS master: may create roles, is no superuser, owns the database.
    psql(`CREATE ROLE ${master} LOGIN CREATEROLE`);
    psql(`CREATE DATABASE ${database} OWNER ${master}`);
    // What MLflow created while it still connected as the master.
    psql(
      "CREATE TABLE experiments (experiment_id serial PRIMARY KEY, name text NOT NULL); CREATE TABLE alembic_version (version_num text); INSERT INTO experiments (name) VALUES ('Default')",
      master,
      database,
    );
  });

  afterAll(() => {
    if (!host) return;
    psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    for (const name of [clone, role, master]) psql(`DROP ROLE IF EXISTS ${name}`);
  });

  it('creates the role and hands it the tables the master owned; a second run changes nothing', () => {
    const first = dbRoles(role);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      `role ${role} created; 2 object(s) handed over: alembic_version, experiments`,
    );
    expect(owners()).toEqual({
      alembic_version: role,
      experiments: role,
      experiments_experiment_id_seq: role,
    });
    const second = dbRoles(role);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain(`role ${role} exists; 0 object(s) handed over`);
  });

  it('refuses a user that is neither the role nor its clone, naming it', () => {
    const result = dbRoles('someone_else');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`DB_USER must be '${role}' or '${clone}' (got 'someone_else')`);
  });

  it('lets the clone the rotation creates use and extend the role-owned schema through the entrypoint URI', () => {
    // What Secrets Manager's PostgreSQL multi-user rotation function runs as the master.
    psql(`CREATE ROLE ${clone} WITH LOGIN PASSWORD 'rotated'; GRANT ${role} TO ${clone}`, master, database);
    const { status, uri, stderr } = entrypointBackendUri({ DB_USER: clone, DB_ROLE: role });
    expect(status, stderr).toBe(0);
    expect(uri).toBe(
      `postgresql+psycopg2://${clone}:unused-local-trust-auth@${host}:${port}/${database}?options=-c+role=${role}`,
    );
    const [who, count] = sqlAlchemy(uri, [
      'SELECT current_user, session_user',
      "INSERT INTO experiments (name) VALUES ('after rotation')",
      'CREATE TABLE runs (run_uuid text PRIMARY KEY)',
      'SELECT count(*) FROM experiments',
    ]);
    expect(who).toEqual([[role, clone]]);
    expect(count).toEqual([[2]]);
    expect(owners().runs).toBe(role);
  });

  it('asks for verify-full against the CA bundle, and the connection fails without TLS instead of falling back', () => {
    const caDir = mkdtempSync(join(tmpdir(), 'db-roles-ca-'));
    const bundle = join(caDir, 'global-bundle.pem');
    writeFileSync(bundle, '');
    const { status, uri, stderr } = entrypointBackendUri({
      DB_USER: role,
      DB_ROLE: role,
      DB_SSLMODE: 'verify-full',
      DB_SSLROOTCERT: bundle,
    });
    expect(status, stderr).toBe(0);
    expect(uri).toContain(`/${database}?sslmode=verify-full&sslrootcert=${bundle}&options=-c+role=${role}`);
    // The local Postgres has no TLS: verify-full refuses it.
    expect(() => sqlAlchemy(uri, ['SELECT 1'])).toThrow(/SSL/);
  });

  it('builds the bare URI the ECS Postgres task gets: no TLS, no role', () => {
    const { status, uri, stderr } = entrypointBackendUri({ DB_USER: 'mlflow' });
    expect(status, stderr).toBe(0);
    expect(uri).toBe(`postgresql+psycopg2://mlflow:unused-local-trust-auth@${host}:${port}/${database}`);
  });

  it('stops when the CA bundle is missing or the sslmode is not one libpq knows', () => {
    const missing = entrypointBackendUri({
      DB_USER: role,
      DB_SSLMODE: 'verify-full',
      DB_SSLROOTCERT: '/nonexistent/global-bundle.pem',
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(
      "DB_SSLROOTCERT '/nonexistent/global-bundle.pem' is not a readable file",
    );
    const bad = entrypointBackendUri({ DB_USER: role, DB_SSLMODE: 'verify' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("DB_SSLMODE 'verify' is not a libpq sslmode");
  });
});

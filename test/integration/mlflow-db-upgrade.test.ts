/**
 * `mlflow-entrypoint db-upgrade` (docker/mlflow/entrypoint.sh → mlflow_db_upgrade.py), the command
 * the deployment's one-off upgrade task runs (lib/mlflow-upgrade.ts), against the local Postgres in
 * a database of its own: it creates the schema on an empty database, upgrades an older one with
 * `mlflow db upgrade`, leaves a current one and one a newer MLflow migrated alone, and fails
 * naming the database (never its password) when it cannot reach it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { VENV_BIN } from '../../localstack/services/local-paths';
import { requiresAuth, startMlflow } from '../../localstack/services/mlflow-server';
import { stopDetached } from '../../localstack/services/processes';

const run = promisify(execFile);
const DATABASE = `mlflow_upgrade_${process.pid}`;
const PASSWORD = 'never-printed-p4ss';

let admin: URL;

/** Python in the venv with psycopg2/sqlalchemy/alembic, given the database URL as argv[1]. */
async function python(code: string, url: string): Promise<string> {
  const { stdout } = await run(join(VENV_BIN, 'python'), ['-c', code, url], { timeout: 120_000 });
  return stdout.trim();
}

function urlOf(database: string): string {
  const url = new URL(admin);
  url.pathname = `/${database}`;
  return url.toString().replace('postgresql://', 'postgresql+psycopg2://');
}

/** The entrypoint as the upgrade task runs it: `mlflow-entrypoint db-upgrade`, the DB_* settings ECS gives. */
async function dbUpgrade(overrides: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(
      'sh',
      [join(PROJECT_ROOT, 'docker/mlflow/entrypoint.sh'), 'db-upgrade'],
      {
        env: {
          PATH: `${VENV_BIN}:${process.env.PATH}`,
          HOME: process.env.HOME,
          DB_HOST: admin.hostname,
          DB_PORT: admin.port,
          DB_NAME: DATABASE,
          DB_USER: decodeURIComponent(admin.username),
          // Local Postgres trusts local connections; the task's password comes from Secrets Manager.
          DB_PASSWORD: PASSWORD,
          MLFLOW_DB_UPGRADE_SCRIPT: join(PROJECT_ROOT, 'docker/mlflow/mlflow_db_upgrade.py'),
          ...overrides,
        },
        timeout: 240_000,
      },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const REVISION = `
import sys, sqlalchemy
from alembic.migration import MigrationContext
engine = sqlalchemy.create_engine(sys.argv[1])
with engine.connect() as c:
    print(MigrationContext.configure(c).get_current_revision())
`;
/** Rebuilds the store as MLflow's previous schema revision had it: the initial tables, migrated up to there. */
const ONE_MIGRATION_BEHIND = (head: string, dropSchema: boolean) => `
import sys, sqlalchemy
from alembic import command
from mlflow.store.db.utils import _get_alembic_config, InitialBase
from alembic.script import ScriptDirectory
url = sys.argv[1]
engine = sqlalchemy.create_engine(url)
${dropSchema ? 'with engine.begin() as c:\n    c.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")' : ''}
config = _get_alembic_config(url)
previous = ScriptDirectory.from_config(config).get_revision("${head}").down_revision
InitialBase.metadata.create_all(engine)
with engine.begin() as c:
    config.attributes["connection"] = c
    command.upgrade(config, previous)
`;

const HEAD = `
import mlflow, pathlib
from alembic.script import ScriptDirectory
print(ScriptDirectory(str(pathlib.Path(mlflow.__file__).parent / "store" / "db_migrations")).get_current_head())
`;

describe('mlflow-entrypoint db-upgrade', () => {
  let head: string;

  beforeAll(async () => {
    // The cluster's superuser (trusted locally) creates and owns the test's own database.
    admin = new URL(inject('localEnv').DATABASE_URL);
    admin.username = 'postgres';
    admin.pathname = '/postgres';
    await python(
      `import sys, psycopg2
c = psycopg2.connect(sys.argv[1]); c.autocommit = True
c.cursor().execute('CREATE DATABASE ${DATABASE}')`,
      admin.toString(),
    );
    head = await python(HEAD, admin.toString());
  });

  afterAll(async () => {
    await python(
      `import sys, psycopg2
c = psycopg2.connect(sys.argv[1]); c.autocommit = True
c.cursor().execute('DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)')`,
      admin.toString(),
    );
  });

  it('creates the schema at the head revision on an empty database', async () => {
    const { code, output } = await dbUpgrade();
    expect(code, output).toBe(0);
    expect(output).toContain(`from an empty database to ${head}`);
    expect(output).toContain(`upgraded to ${head}`);
    expect(await python(REVISION, urlOf(DATABASE))).toBe(head);
    expect(output).not.toContain(PASSWORD);
  });

  it('does nothing on a database at its schema', async () => {
    const { code, output } = await dbUpgrade();
    expect(code, output).toBe(0);
    expect(output).toContain(`at MLflow`);
    expect(output).toContain(`(${head}); nothing to do`);
  });

  it('upgrades a database an older MLflow left (one migration behind) with mlflow db upgrade', async () => {
    await python(ONE_MIGRATION_BEHIND(head, true), urlOf(DATABASE));
    const before = await python(REVISION, urlOf(DATABASE));
    expect(before).not.toBe(head);
    const { code, output } = await dbUpgrade();
    expect(code, output).toBe(0);
    expect(output).toContain(`from schema ${before} to ${head}`);
    expect(await python(REVISION, urlOf(DATABASE))).toBe(head);
  });

  it('leaves a schema a newer MLflow migrated alone, and says it cannot downgrade', async () => {
    await python(
      `import sys, sqlalchemy
engine = sqlalchemy.create_engine(sys.argv[1])
with engine.begin() as c:
    c.exec_driver_sql("UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'")`,
      urlOf(DATABASE),
    );
    const { code, output } = await dbUpgrade();
    expect(code, output).toBe(0);
    expect(output).toContain('is at schema f0f0f0f0f0f0, which MLflow');
    expect(output).toContain('MLflow cannot downgrade, restore a backup');
    expect(await python(REVISION, urlOf(DATABASE))).toBe('f0f0f0f0f0f0');
  });

  it('fails naming the database, not its password, when it cannot reach it', async () => {
    const { code, output } = await dbUpgrade({ DB_PORT: '1' });
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(
        `cannot read the schema of postgresql\\+psycopg2://[^ ]*:\\*\\*\\*@${admin.hostname}:1/${DATABASE}`,
      ),
    );
    expect(output).not.toContain(PASSWORD);
  });

  it('refuses a command it does not know rather than starting the server', async () => {
    const { code, output } = await run(
      'sh',
      [join(PROJECT_ROOT, 'docker/mlflow/entrypoint.sh'), 'db-upgrad'],
      {
        env: {
          PATH: process.env.PATH,
          DB_HOST: 'h',
          DB_PORT: '5432',
          DB_NAME: 'd',
          DB_USER: 'u',
          DB_PASSWORD: 'p',
        },
      },
    ).then(
      () => ({ code: 0, output: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, output: error.stderr }),
    );
    expect(code).toBe(2);
    expect(output).toContain("unknown command 'db-upgrad'");
  });
});

/**
 * `mlops local up` on a store another MLflow wrote. One migration behind, MLflow 3.17.2 migrates it
 * itself (its last migration adds tables, and a missing table makes the server run the migrations);
 * a store at a revision the server does not expect makes it exit with "Detected out-of-date
 * database schema": startMlflow then runs the upgrade once, saying so, and fails naming the cause
 * when the store is newer than the venv's MLflow.
 */
describe('the local MLflow on a store another MLflow wrote', () => {
  const saved = process.env.MLOPS_LOCAL_DIR;
  const dir = mkdtempSync(join(tmpdir(), 's1-mlflow-upgrade-'));
  const store = `sqlite:///${join(dir, 'mlflow.db')}`;
  let head: string;

  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
      });
    });

  async function start(lines: string[]) {
    const port = await freePort();
    const uri = `http://127.0.0.1:${port}`;
    const local = inject('localEnv');
    await startMlflow(port, { ...local, MLFLOW_TRACKING_URI: uri, MLFLOW_BACKEND_STORE: 'sqlite' }, (line) =>
      lines.push(line),
    );
    return uri;
  }

  beforeAll(async () => {
    process.env.MLOPS_LOCAL_DIR = dir;
    mkdirSync(join(dir, 'logs'), { recursive: true });
    mkdirSync(join(dir, 'pids'), { recursive: true });
    head = await python(HEAD, store);
    await python(ONE_MIGRATION_BEHIND(head, false), store);
  });

  afterAll(async () => {
    await stopDetached('mlflow', () => undefined);
    if (saved === undefined) delete process.env.MLOPS_LOCAL_DIR;
    else process.env.MLOPS_LOCAL_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves on a store one migration behind, migrated to its schema', async () => {
    expect(await python(REVISION, store)).not.toBe(head);
    const uri = await start([]);
    expect(await python(REVISION, store)).toBe(head);
    expect(await requiresAuth(uri)).toBe(true);
    await stopDetached('mlflow', () => undefined);
  });

  it('runs the upgrade once on "out-of-date database schema", and names a store newer than the venv', async () => {
    await python(
      `import sys, sqlalchemy
engine = sqlalchemy.create_engine(sys.argv[1])
with engine.begin() as c:
    c.exec_driver_sql("UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'")`,
      store,
    );
    const lines: string[] = [];
    await expect(start(lines)).rejects.toThrow(
      /the sqlite store was migrated by a newer MLflow than the venv's[\s\S]*is at schema f0f0f0f0f0f0, which MLflow/,
    );
    expect(
      lines.filter((line) => line.includes('upgrading its schema once (mlflow db upgrade)')),
    ).toHaveLength(1);
  });
});

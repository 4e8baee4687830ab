/**
 * `mlflow-entrypoint db-upgrade` (docker/mlflow/entrypoint.sh → mlflow_db_upgrade.py), the command
 * the deployment's one-off upgrade task runs (lib/mlflow-upgrade.ts), against the local Postgres in
 * a database of its own: it creates the schema on an empty database, upgrades an older one with
 * `mlflow db upgrade`, leaves a current one and one a newer MLflow migrated alone, and fails
 * naming the database (never its password) when it cannot reach it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { VENV_BIN } from '../../localstack/services/local-paths';

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
    // Rebuild the schema as the previous revision had it: MLflow's initial tables, migrated up to there.
    await python(
      `import sys, sqlalchemy
from alembic import command
from mlflow.store.db.utils import _get_alembic_config, InitialBase
from alembic.script import ScriptDirectory
url = sys.argv[1]
engine = sqlalchemy.create_engine(url)
with engine.begin() as c:
    c.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
config = _get_alembic_config(url)
previous = ScriptDirectory.from_config(config).get_revision("${head}").down_revision
InitialBase.metadata.create_all(engine)
with engine.begin() as c:
    config.attributes["connection"] = c
    command.upgrade(config, previous)`,
      urlOf(DATABASE),
    );
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

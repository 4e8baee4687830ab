"""Brings MLflow's database schema to what this MLflow version expects, once, before servers start.

One script for the ECS upgrade task (entrypoint.sh `db-upgrade`, run by lib/mlflow-upgrade.ts before
the service's new tasks start) and the local stack (localstack/services/mlflow-server.ts, when the
venv's MLflow finds an out-of-date schema):

    python mlflow_db_upgrade.py --url postgresql+psycopg2://user:password@host:5432/mlflow

- an empty database, or the tracking schema at an older revision: `mlflow db upgrade <url>`
  (MLflow's own command; on an empty database it creates the tables, so two new servers do not
  race to);
- at this version's head: nothing to do;
- at a revision this MLflow does not know (a newer MLflow migrated it, e.g. a deployment being rolled
  back): nothing is changed, and it says so; MLflow cannot downgrade, restore a backup for that.

The auth app's tables (their own alembic version table) are brought to head by the server itself on
start. Prints one line saying what it did; exits 1 with the reason on failure (never the password).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is reported by the caller
        return "<unparsable database URL>"


def current_revision(url: str) -> str | None:
    """The tracking schema's alembic revision; None for a database without MLflow's tables."""
    import sqlalchemy
    from alembic.migration import MigrationContext

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            tables = sqlalchemy.inspect(connection).get_table_names()
            if all(name.startswith("alembic_") for name in tables):
                return None
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def migrations():
    """MLflow's tracking-store migration scripts, as alembic reads them."""
    import mlflow
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(mlflow.__file__).parent / "store" / "db_migrations"))


def known_revision(scripts, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown revision
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the backend store URI (SQLAlchemy URL)")
    parser.add_argument("--mlflow", default="mlflow", help="the mlflow command to run the upgrade with")
    args = parser.parse_args(argv)

    import mlflow

    version = mlflow.__version__
    where = redact(args.url)
    try:
        current = current_revision(args.url)
    except Exception as error:  # noqa: BLE001 - any driver error: say which database
        print(f"mlflow_db_upgrade: cannot read the schema of {where}: {error}", file=sys.stderr)
        return 1
    scripts = migrations()
    head = scripts.get_current_head()
    if current == head:
        print(f"mlflow_db_upgrade: {where} is at MLflow {version}'s schema ({head}); nothing to do", flush=True)
        return 0
    if current is not None and not known_revision(scripts, current):
        print(
            f"mlflow_db_upgrade: {where} is at schema {current}, which MLflow {version} does not know "
            f"(a newer MLflow migrated it); leaving it as it is: MLflow cannot downgrade, restore a "
            f"backup to go back",
            flush=True,
        )
        return 0
    start = f"schema {current}" if current else "an empty database"
    print(f"mlflow_db_upgrade: upgrading {where} from {start} to {head} (MLflow {version})", flush=True)
    done = subprocess.run([args.mlflow, "db", "upgrade", args.url], check=False)
    if done.returncode != 0:
        print(f"mlflow_db_upgrade: 'mlflow db upgrade' of {where} failed with exit code {done.returncode}",
              file=sys.stderr)
        return 1
    after = current_revision(args.url)
    if after != head:
        print(f"mlflow_db_upgrade: {where} is at {after} after the upgrade, expected {head}", file=sys.stderr)
        return 1
    print(f"mlflow_db_upgrade: {where} upgraded to {head}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

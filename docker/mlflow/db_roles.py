"""MLflow's own database role on RDS and Aurora, created with the master credentials.

Run by the task's `db-roles` container (lib/mlflow-service.ts) before the MLflow server starts, so
the master password never reaches the server's environment. Idempotent:

- creates the role DB_ROLE (LOGIN, with MLflow's secret's password) when it does not exist yet:
  Secrets Manager's alternating-users rotation then clones it as `<role>_clone` and switches
  between the two, and needs the first one to exist;
- lets the master act as the role (GRANT ... TO the master), which changing an owner requires;
- grants the role CREATE on the `public` schema and hands it every table, view, sequence and enum
  type the master owns there (a database MLflow created as the master before it had its own role).

MLflow's sessions `SET ROLE` to DB_ROLE (docker/mlflow/entrypoint.sh), so whatever it creates is
the role's whichever of the alternating users logged in.

Environment: DB_HOST, DB_PORT, DB_NAME, DB_ROLE, DB_MASTER_USER, DB_MASTER_PASSWORD, DB_USER and
DB_PASSWORD (MLflow's current user and password), optional DB_SSLMODE and DB_SSLROOTCERT.
"""

from __future__ import annotations

import os
import re
import sys
import time

import psycopg2
from psycopg2 import sql

ROLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,56}$")
CLONE_SUFFIX = "_clone"


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"db_roles: {name} is required")
    return value


def connect(attempts: int = 10):
    options = {
        "host": required("DB_HOST"),
        "port": int(required("DB_PORT")),
        "dbname": required("DB_NAME"),
        "user": required("DB_MASTER_USER"),
        "password": required("DB_MASTER_PASSWORD"),
        "connect_timeout": 10,
        "application_name": "mlflow-db-roles",
    }
    if os.environ.get("DB_SSLMODE"):
        options["sslmode"] = os.environ["DB_SSLMODE"]
    if os.environ.get("DB_SSLROOTCERT"):
        options["sslrootcert"] = os.environ["DB_SSLROOTCERT"]
    for attempt in range(1, attempts + 1):
        try:
            return psycopg2.connect(**options)
        except psycopg2.OperationalError as error:
            # An Aurora cluster paused at 0 ACU takes ~15 s to resume.
            if attempt == attempts:
                raise SystemExit(f"db_roles: cannot connect to {options['host']} as the master user: {error}")
            time.sleep(min(2 * attempt, 10))
    raise AssertionError("unreachable")


def ensure_role(cur, role: str, user: str, password: str) -> bool:
    """Creates `role` with `password` unless it exists; True if it was created."""
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if cur.fetchone():
        return False
    if user != role:
        raise SystemExit(
            f"db_roles: DB_USER is '{user}' but the role '{role}' does not exist: "
            "MLflow's secret names a user this database does not have"
        )
    cur.execute(sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD %s").format(sql.Identifier(role)), (password,))
    return True


def grant_to_master(cur, role: str) -> None:
    """The master may act as the role: changing an owner to it requires that (Postgres 16)."""
    cur.execute("SHOW server_version_num")
    version = int(cur.fetchone()[0])
    statement = "GRANT {} TO CURRENT_USER" + (" WITH INHERIT TRUE, SET TRUE" if version >= 160000 else "")
    cur.execute(sql.SQL(statement).format(sql.Identifier(role)))


def hand_over(cur, role: str) -> list[str]:
    """Gives `role` what the master owns in the public schema; the names of what changed hands."""
    changed: list[str] = []
    # First: a new owner must have CREATE on the schema (unless the master is a superuser).
    cur.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
    # Tables, views and materialized views; a table's owned sequences (serial, identity) follow it.
    cur.execute(
        """
        SELECT c.relname, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
          AND c.relkind IN ('r', 'p', 'v', 'm')
        ORDER BY c.relname
        """
    )
    keyword = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
    for name, kind in cur.fetchall():
        cur.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(
                sql.SQL(keyword[kind]), sql.Identifier("public", name), sql.Identifier(role)
            )
        )
        changed.append(name)
    # Sequences of their own (not linked to a table column).
    cur.execute(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S'
          AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
          AND NOT EXISTS (
            SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
          )
        ORDER BY c.relname
        """
    )
    for (name,) in cur.fetchall():
        cur.execute(
            sql.SQL("ALTER SEQUENCE {} OWNER TO {}").format(sql.Identifier("public", name), sql.Identifier(role))
        )
        changed.append(name)
    cur.execute(
        """
        SELECT t.typname FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype = 'e'
          AND t.typowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
        ORDER BY t.typname
        """
    )
    for (name,) in cur.fetchall():
        cur.execute(
            sql.SQL("ALTER TYPE {} OWNER TO {}").format(sql.Identifier("public", name), sql.Identifier(role))
        )
        changed.append(name)
    return changed


def main() -> int:
    role = required("DB_ROLE")
    if not ROLE_PATTERN.fullmatch(role):
        raise SystemExit(f"db_roles: DB_ROLE must be a lowercase Postgres identifier of at most 57 characters (got '{role}')")
    user = required("DB_USER")
    if user not in (role, role + CLONE_SUFFIX):
        raise SystemExit(f"db_roles: DB_USER must be '{role}' or '{role}{CLONE_SUFFIX}' (got '{user}')")
    password = required("DB_PASSWORD")
    connection = connect()
    try:
        with connection, connection.cursor() as cur:
            created = ensure_role(cur, role, user, password)
            grant_to_master(cur, role)
            changed = hand_over(cur, role)
    finally:
        connection.close()
    print(
        f"db_roles: role {role} {'created' if created else 'exists'}; "
        f"{len(changed)} object(s) handed over{': ' + ', '.join(changed) if changed else ''}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

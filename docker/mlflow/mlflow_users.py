"""Creates MLflow basic-auth users idempotently through the server's REST API, as its admin.

One script for the local stack (localstack/services/mlflow-server.ts, `mlops mlflow user add`) and
the ECS container (entrypoint.sh): standard library only, so it runs in the MLflow image and in
the project's venv alike.

    python mlflow_users.py --url http://127.0.0.1:5000 --wait 120 \
        --user pipelines:writer:MLFLOW_PIPELINES_PASSWORD --user reader:reader:MLFLOW_READER_PASSWORD

Each --user is NAME:ROLE:ENV_VAR; the password is read from that environment variable, never
from the command line. The admin's credentials come from MLFLOW_AUTH_ADMIN_USERNAME and
MLFLOW_AUTH_ADMIN_PASSWORD (the variables the server bootstraps its admin from).

Roles:
- reader: no grants of its own; the server's default_permission (READ) lets it read everything.
- writer: MANAGE on every experiment and registered model ('*' grants), so it can create runs,
  model versions and move or delete aliases on models it did not create (the pipelines' user).

A user that exists keeps its account: its password is set to the given one when that one does not
log in, and its grants are brought to its role (a writer made reader loses the '*' grants).
Prints one line per user; exits 1 with a message naming the user or setting on failure.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROLES = ("reader", "writer")
WRITER_GRANTS = (("experiment", "*", "MANAGE"), ("registered_model", "*", "MANAGE"))


class ProvisionError(Exception):
    pass


def basic(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


def call(url: str, method: str, path: str, auth: str | None, body: dict | None = None,
         query: dict | None = None) -> tuple[int, str]:
    target = f"{url}{path}"
    if query:
        target += "?" + urllib.parse.urlencode(query)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(target, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def wait_healthy(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _ = call(url, "GET", "/health", None)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise ProvisionError(f"MLflow at {url} did not answer /health within {seconds:g}s")
        time.sleep(1)


def check(status: int, text: str, what: str) -> None:
    if status >= 300:
        raise ProvisionError(f"{what}: HTTP {status} {text.strip()[:300]}")


def ensure_user(url: str, admin: str, name: str, role: str, password: str) -> str:
    status, text = call(url, "GET", "/api/2.0/mlflow/users/get", admin, query={"username": name})
    if status == 401:
        raise ProvisionError("the admin credentials (MLFLOW_AUTH_ADMIN_USERNAME/PASSWORD) do not log in")
    if status == 404:
        status, text = call(url, "POST", "/api/2.0/mlflow/users/create", admin,
                            {"username": name, "password": password})
        check(status, text, f"creating user {name}")
        outcome = "created"
    else:
        check(status, text, f"looking up user {name}")
        own, _ = call(url, "GET", "/api/2.0/mlflow/users/current", basic(name, password))
        if own == 200:
            outcome = "exists"
        else:
            status, text = call(url, "PATCH", "/api/2.0/mlflow/users/update-password", admin,
                                {"username": name, "password": password})
            check(status, text, f"setting the password of user {name}")
            outcome = "exists, password updated"
    for resource_type, resource_id, permission in WRITER_GRANTS:
        grant = {"username": name, "resource_type": resource_type, "resource_id": resource_id}
        if role == "writer":
            status, text = call(url, "POST", "/api/3.0/mlflow/users/permissions/grant", admin,
                                {**grant, "permission": permission})
            if status >= 300 and "RESOURCE_ALREADY_EXISTS" not in text:
                check(status, text, f"granting {permission} on {resource_type} '*' to {name}")
        else:
            status, text = call(url, "POST", "/api/3.0/mlflow/users/permissions/revoke", admin, grant)
            if status >= 300 and "RESOURCE_DOES_NOT_EXIST" not in text and status != 404:
                check(status, text, f"revoking {resource_type} '*' from {name}")
    return f"mlflow user {name} ({role}): {outcome}"


def parse_user(spec: str) -> tuple[str, str, str]:
    parts = spec.split(":")
    if len(parts) != 3 or not all(parts):
        raise ProvisionError(f"--user must be NAME:ROLE:ENV_VAR, got '{spec}'")
    name, role, variable = parts
    if role not in ROLES:
        raise ProvisionError(f"--user {name}: role must be one of {', '.join(ROLES)}, got '{role}'")
    password = os.environ.get(variable, "")
    if len(password) < 12:
        raise ProvisionError(
            f"--user {name}: the password in {variable} is missing or shorter than 12 characters")
    return name, role, password


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the MLflow server, e.g. http://127.0.0.1:5000")
    parser.add_argument("--user", action="append", default=[], help="NAME:ROLE:ENV_VAR")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for /health first")
    args = parser.parse_args(argv)
    try:
        admin_name = os.environ.get("MLFLOW_AUTH_ADMIN_USERNAME", "")
        admin_password = os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD", "")
        if not admin_name or not admin_password:
            raise ProvisionError("MLFLOW_AUTH_ADMIN_USERNAME and MLFLOW_AUTH_ADMIN_PASSWORD are required")
        users = [parse_user(spec) for spec in args.user]
        url = args.url.rstrip("/")
        if args.wait > 0:
            wait_healthy(url, args.wait)
        admin = basic(admin_name, admin_password)
        for name, role, password in users:
            print(ensure_user(url, admin, name, role, password), flush=True)
    except ProvisionError as error:
        print(f"mlflow_users: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"mlflow_users: cannot reach {args.url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

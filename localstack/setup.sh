#!/usr/bin/env bash
# Installs everything the local stack needs, idempotently: npm packages (with Node 22 from the
# `node` dev dependency), the Python venv with MLflow and the local AWS endpoint, ministack (its own
# venv) and Debian's PostgreSQL. A second run finds everything in place and installs nothing.
#
#   bash localstack/setup.sh            # all of it
#   bash localstack/setup.sh --no-npm   # venv and Postgres only (called from npm scripts)
#   bash localstack/setup.sh --postgres-optional   # `npm run demo`: MLflow on SQLite needs no Postgres
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
want_npm=1
postgres_optional=0
for arg in "$@"; do
  case "$arg" in
    --no-npm) want_npm=0 ;;
    --postgres-optional) postgres_optional=1 ;;
    *) printf '[setup] unknown option %s (known: --no-npm, --postgres-optional)\n' "$arg" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*" >&2; }

# --- npm packages ---------------------------------------------------------------------------
if [ "$want_npm" = 1 ]; then
  stamp="$root/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ] || [ ! -x "$root/node_modules/.bin/node" ]; then
    say "installing npm packages"
    # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages (biome's
    # android/darwin/win32 binaries) out of the lock file and then `npm ci` calls it out of sync.
    # With the lock file present, `npm install` installs exactly the locked versions.
    # onnxruntime-node's postinstall would download CUDA files on linux/x64; the CPU binaries ship
    # in the package. Set here rather than in .npmrc, where npm warns about it on every command.
    (cd "$root" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error)
  fi
fi

# --- the prebuilt `mlops --help` -----------------------------------------------------------
# dist/cli/mlops.mjs (bin/mlops.mjs uses it while it is newer than bin/cli/program.ts); npm
# install's prepare step builds it too.
if [ -d "$root/node_modules/esbuild" ] && { [ ! -f "$root/dist/cli/mlops.mjs" ] || [ "$root/bin/cli/program.ts" -nt "$root/dist/cli/mlops.mjs" ]; }; then
  (cd "$root" && node bin/build-cli.mjs)
fi

# --- Python venv ----------------------------------------------------------------------------
python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3 python3.12 python3.11 python3.10; do
    # `command -v` is not enough: pyenv shims exist for versions that are not active.
    if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
      python_bin="$candidate"; break
    fi
  done
fi
if [ -z "$python_bin" ]; then
  say "no python3 found: install Python 3.10+ (Debian: apt-get install python3 python3-venv)"
  exit 1
fi
req_hash="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$req_hash" ]; then
  say "creating the Python venv at localstack/.venv (MLflow, moto, psycopg2, boto3, scipy)"
  [ -x "$venv/bin/python" ] || "$python_bin" -m venv "$venv"
  # Not --quiet: a line per package ("Collecting mlflow==…") shows a first install is moving.
  say "this takes a few minutes the first time"
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$here/requirements.txt"
  echo "$req_hash" > "$venv/.requirements.sha256"
fi

# --- ministack ------------------------------------------------------------------------------
# The emulator `npm run local:deploy` deploys the CDK app to without Docker. Its own venv inside
# .venv: ministack pins botocore exactly, to a version boto3 above does not accept.
ministack_venv="$venv/ministack"
ministack_req="$here/deploy/ministack-requirements.txt"
ministack_hash="$(sha256sum "$ministack_req" | cut -d' ' -f1)"
if [ ! -x "$ministack_venv/bin/ministack" ] || [ "$(cat "$ministack_venv/.requirements.sha256" 2>/dev/null)" != "$ministack_hash" ]; then
  say "installing ministack into localstack/.venv/ministack ($(grep -m1 '^ministack==' "$ministack_req"))"
  [ -x "$ministack_venv/bin/python" ] || "$python_bin" -m venv "$ministack_venv"
  "$ministack_venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$ministack_req"
  echo "$ministack_hash" > "$ministack_venv/.requirements.sha256"
fi

# --- PostgreSQL -----------------------------------------------------------------------------
find_pg_ctl() {
  if command -v pg_ctl >/dev/null 2>&1; then command -v pg_ctl; return 0; fi
  ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1
}
if [ -z "$(find_pg_ctl)" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  elif [ "$postgres_optional" = 1 ]; then
    say "PostgreSQL is not installed: MLflow will run on SQLite. For '--store postgres' and npm test install it, e.g. 'sudo apt-get install postgresql' (Debian/Ubuntu) or 'brew install postgresql' (macOS)."
  else
    say "PostgreSQL is not installed. Install it, e.g. 'sudo apt-get install postgresql' (Debian/Ubuntu) or 'brew install postgresql' (macOS), then rerun."
    exit 1
  fi
fi
# Debian's package creates a cluster and may start it on 5432; ours runs on its own data
# directory and port, so that one is left alone.
exit 0

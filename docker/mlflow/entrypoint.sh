#!/bin/sh
# Builds the backend store URI from the parts ECS hands in (the password comes from Secrets
# Manager, so it cannot be baked into a command line in the task definition) and starts MLflow
# with the S3 artifact proxy and MLflow's basic-auth app: clients upload and download artifacts
# through the server and never need S3 credentials of their own, and every call but /health needs
# a user. The auth tables live in the same Postgres database (their own alembic version table).
#
# Once the server answers, mlflow_users.py (the script the local stack runs too) creates the
# pipelines' and the reader's users, or resets their passwords to the secrets' values. If that
# fails, the container stops: a task whose users cannot log in must not pass for healthy.
#
# `mlflow-entrypoint db-upgrade` (the one-off task lib/mlflow-upgrade.ts runs before the service's
# new tasks start) only brings the database schema to this image's MLflow version
# (mlflow_db_upgrade.py, which runs `mlflow db upgrade`) and exits with its status.
set -eu

: "${DB_HOST:?DB_HOST is required}"
: "${DB_PORT:?DB_PORT is required}"
: "${DB_NAME:?DB_NAME is required}"
: "${DB_USER:?DB_USER is required}"
: "${DB_PASSWORD:?DB_PASSWORD is required}"

port="${MLFLOW_PORT:-5000}"
password=$(python -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["DB_PASSWORD"], safe=""))')
# TLS (lib/mlflow-service.ts databaseConnectionEnvironment): on RDS and Aurora, verify-full
# against RDS's CA bundle, so a server without a valid certificate for DB_HOST is refused.
query=""
if [ -n "${DB_SSLMODE:-}" ]; then
  case "$DB_SSLMODE" in
    disable | allow | prefer | require | verify-ca | verify-full) ;;
    *) echo "mlflow-entrypoint: DB_SSLMODE '$DB_SSLMODE' is not a libpq sslmode" >&2; exit 1 ;;
  esac
  query="sslmode=${DB_SSLMODE}"
fi
if [ -n "${DB_SSLROOTCERT:-}" ]; then
  if [ ! -r "$DB_SSLROOTCERT" ]; then
    echo "mlflow-entrypoint: DB_SSLROOTCERT '$DB_SSLROOTCERT' is not a readable file" >&2
    exit 1
  fi
  query="${query:+${query}&}sslrootcert=${DB_SSLROOTCERT}"
fi
# The role MLflow's sessions act as (RDS, Aurora): the password rotation alternates between this
# role and its clone, and whatever MLflow creates must belong to the role, not to whichever logged in.
# `+` is a space in the query string; no `%` escapes, which basic_auth.ini's parser would expand.
if [ -n "${DB_ROLE:-}" ]; then
  if ! printf '%s' "$DB_ROLE" | grep -Eq '^[a-z_][a-z0-9_]{0,62}$'; then
    echo "mlflow-entrypoint: DB_ROLE must be a lowercase Postgres identifier (got '$DB_ROLE')" >&2
    exit 1
  fi
  query="${query:+${query}&}options=-c+role=${DB_ROLE}"
fi
# SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3; the image has psycopg2.
backend="postgresql+psycopg2://${DB_USER}:${password}@${DB_HOST}:${DB_PORT}/${DB_NAME}${query:+?${query}}"

if [ "${1:-}" = "db-upgrade" ]; then
  exec python "${MLFLOW_DB_UPGRADE_SCRIPT:-/usr/local/lib/mlflow/mlflow_db_upgrade.py}" --url "$backend"
fi
if [ "$#" -gt 0 ]; then
  echo "mlflow-entrypoint: unknown command '$1' (none starts the server; db-upgrade upgrades the database)" >&2
  exit 2
fi

: "${ARTIFACTS_BUCKET:?ARTIFACTS_BUCKET is required}"
: "${MLFLOW_AUTH_ADMIN_USERNAME:?MLFLOW_AUTH_ADMIN_USERNAME is required}"
: "${MLFLOW_AUTH_ADMIN_PASSWORD:?MLFLOW_AUTH_ADMIN_PASSWORD is required}"
: "${MLFLOW_FLASK_SERVER_SECRET_KEY:?MLFLOW_FLASK_SERVER_SECRET_KEY is required}"
: "${MLFLOW_PIPELINES_PASSWORD:?MLFLOW_PIPELINES_PASSWORD is required}"
: "${MLFLOW_READER_PASSWORD:?MLFLOW_READER_PASSWORD is required}"

# MLflow encrypts the webhook secrets it stores with a Fernet key; without one each worker makes up
# its own at start, and a delivery handled by another worker or task (or after a restart) cannot
# decrypt its secret. The key derives from the Flask secret key (Secrets Manager, the same in every
# task), separated by an HMAC label so neither key tells anything about the other.
if [ -z "${MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY:-}" ]; then
  MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY=$(python -c 'import base64, hashlib, hmac, os; print(base64.urlsafe_b64encode(hmac.new(os.environ["MLFLOW_FLASK_SERVER_SECRET_KEY"].encode(), b"mlflow-webhook-secret-encryption", hashlib.sha256).digest()).decode())')
  export MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY
fi
# The auth app's settings; the admin's password stays in MLFLOW_AUTH_ADMIN_PASSWORD.
config_dir=$(mktemp -d)
umask 077
cat > "$config_dir/basic_auth.ini" <<INI
[mlflow]
default_permission = READ
database_uri = ${backend}
admin_username = ${MLFLOW_AUTH_ADMIN_USERNAME}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = ${MLFLOW_AUTH_CACHE_TTL_SECONDS:-60}
INI
export MLFLOW_AUTH_CONFIG_PATH="$config_dir/basic_auth.ini"

mlflow server \
  --host 0.0.0.0 \
  --port "$port" \
  --workers "${MLFLOW_WORKERS:-2}" \
  --backend-store-uri "$backend" \
  --artifacts-destination "s3://${ARTIFACTS_BUCKET}/" \
  --serve-artifacts \
  --app-name basic-auth &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT

if ! python "${MLFLOW_USERS_SCRIPT:-/usr/local/lib/mlflow/mlflow_users.py}" --url "http://127.0.0.1:${port}" --wait 600 \
  --user "${MLFLOW_PIPELINES_USERNAME:-pipelines}:writer:MLFLOW_PIPELINES_PASSWORD" \
  --user "${MLFLOW_READER_USERNAME:-reader}:reader:MLFLOW_READER_PASSWORD"; then
  echo "mlflow-entrypoint: could not create the MLflow users; stopping" >&2
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" || true
  exit 1
fi

# The server's exit is the container's; a TERM from ECS reaches it through the trap.
wait "$server" || status=$?
# `wait` returns early when a trapped signal arrives: wait again for the server to finish.
if kill -0 "$server" 2>/dev/null; then wait "$server" || status=$?; fi
exit "${status:-0}"

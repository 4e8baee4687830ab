#!/bin/sh
# Builds the backend store URI from the parts ECS hands in (the password comes from Secrets
# Manager, so it cannot be baked into a command line in the task definition) and starts MLflow
# with the S3 artifact proxy: clients upload and download artifacts through the server and never
# need S3 credentials of their own.
set -eu

: "${DB_HOST:?DB_HOST is required}"
: "${DB_PORT:?DB_PORT is required}"
: "${DB_NAME:?DB_NAME is required}"
: "${DB_USER:?DB_USER is required}"
: "${DB_PASSWORD:?DB_PASSWORD is required}"
: "${ARTIFACTS_BUCKET:?ARTIFACTS_BUCKET is required}"

password=$(python -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["DB_PASSWORD"], safe=""))')
# SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3; the image has psycopg2.
backend="postgresql+psycopg2://${DB_USER}:${password}@${DB_HOST}:${DB_PORT}/${DB_NAME}"

exec mlflow server \
  --host 0.0.0.0 \
  --port "${MLFLOW_PORT:-5000}" \
  --workers "${MLFLOW_WORKERS:-2}" \
  --backend-store-uri "$backend" \
  --artifacts-destination "s3://${ARTIFACTS_BUCKET}/" \
  --serve-artifacts

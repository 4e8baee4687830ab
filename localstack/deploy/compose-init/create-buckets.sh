#!/bin/sh
# LocalStack init hook: the bucket MLflow's artifact proxy writes to.
awslocal s3 mb s3://mlflow-artifacts || true

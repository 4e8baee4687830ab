/**
 * The webhook-registration custom resource's Lambda (onEvent of a custom-resources Provider):
 * see register-webhook.ts. Settings, read at cold start: MLFLOW_TRACKING_URI with the MLflow
 * admin's MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD_SECRET_ARN (the basic-auth app
 * lets only admins manage webhooks), and MLFLOW_WEBHOOK_SECRET_ARN (or MLFLOW_WEBHOOK_SECRET).
 * Resource properties: WebhookUrl (required), WebhookName (default mlops-serving).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mlflowClientOptionsFromEnv } from '../core/mlflow';
import { MlflowWebhooks } from './mlflow-webhooks';
import { type OnEventResponse, onWebhookEvent } from './register-webhook';
import { webhookSecretFrom } from './sync-config';

const webhooks = new MlflowWebhooks(mlflowClientOptionsFromEnv(process.env));
const secret = await webhookSecretFrom(process.env);

export function handler(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  return onWebhookEvent(event, { webhooks, secret });
}

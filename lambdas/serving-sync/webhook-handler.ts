/**
 * The MLflow webhook Lambda (`POST /webhooks/mlflow`, public at the API: each delivery is
 * authenticated by its HMAC signature). Settings, read at cold start: SERVING_BUCKET,
 * SERVED_MODELS (else MODEL_NAME), MLFLOW_TRACKING_URI with MLFLOW_TRACKING_USERNAME and
 * MLFLOW_TRACKING_PASSWORD_SECRET_ARN, and MLFLOW_WEBHOOK_SECRET or MLFLOW_WEBHOOK_SECRET_ARN.
 * The decisions are in webhook.ts.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { publisherFor, syncContextFrom, webhookSecretFrom } from './sync-config';
import { createWebhookHandler } from './webhook';

const context = syncContextFrom(process.env);
const receive = createWebhookHandler({
  ...context,
  secret: await webhookSecretFrom(process.env),
  publish: publisherFor(context),
});

export function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return receive(event);
}

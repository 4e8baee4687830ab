/**
 * The custom resource that registers the serving webhook with MLflow on deploy (the
 * custom-resources Provider framework's `onEvent`): Create and Update create the webhook, or
 * update the one with the same name, for the alias events, pointing at the property `WebhookUrl`
 * with the HMAC secret; Delete deletes it. The physical id is MLflow's webhook id.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { MlflowUnavailableError } from '../core/mlflow';
import type { MlflowWebhooks } from './mlflow-webhooks';

export const DEFAULT_WEBHOOK_NAME = 'mlops-serving';

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export interface RegisterDeps {
  readonly webhooks: Pick<MlflowWebhooks, 'ensure' | 'delete'>;
  readonly secret: string;
  readonly log?: (entry: Record<string, unknown>) => void;
}

export async function onWebhookEvent(
  event: CloudFormationCustomResourceEvent,
  deps: RegisterDeps,
): Promise<OnEventResponse> {
  const log = deps.log ?? ((entry) => console.log(JSON.stringify(entry)));
  const properties = event.ResourceProperties as Record<string, unknown>;
  if (event.RequestType === 'Delete') {
    const id = event.PhysicalResourceId;
    try {
      const deleted = await deps.webhooks.delete(id);
      log({ webhook: deleted ? 'deleted' : 'already gone', webhook_id: id });
    } catch (error) {
      // MLflow gone before the stack (a failed deploy, a torn-down service): nothing to clean up there.
      if (!(error instanceof MlflowUnavailableError)) throw error;
      log({ webhook: 'not deleted: MLflow unreachable', webhook_id: id, error: error.message });
    }
    return { PhysicalResourceId: id };
  }
  const url = properties.WebhookUrl;
  if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) {
    throw new Error(`the property WebhookUrl must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  const nameProperty = properties.WebhookName;
  if (nameProperty !== undefined && (typeof nameProperty !== 'string' || nameProperty.trim() === '')) {
    throw new Error(
      `the property WebhookName must be a non-empty string, got ${JSON.stringify(nameProperty)}`,
    );
  }
  const name = (nameProperty as string | undefined)?.trim() || DEFAULT_WEBHOOK_NAME;
  const { action, webhook } = await deps.webhooks.ensure({ name, url, secret: deps.secret });
  log({ webhook: action, webhook_id: webhook.webhook_id, name, url });
  return {
    PhysicalResourceId: webhook.webhook_id,
    Data: { WebhookId: webhook.webhook_id, WebhookName: name },
  };
}

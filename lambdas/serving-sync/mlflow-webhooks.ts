/**
 * Registering the serving webhook with MLflow (REST API `/api/2.0/mlflow/webhooks` in MLflow 3.x, admin only
 * under the basic-auth app): one webhook per name, for the two alias events, created or brought
 * up to date (URL, events, secret, active) so registering again is harmless.
 */
import { z } from 'zod';
import { MlflowApiError, type MlflowClientOptions } from '../core/mlflow';
import { MlflowTransport } from '../core/mlflow/transport';

const WEBHOOKS = '/api/2.0/mlflow/webhooks';

/** The alias events, as MLflow's protos name them. */
export const ALIAS_WEBHOOK_EVENTS = [
  { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
  { entity: 'MODEL_VERSION_ALIAS', action: 'DELETED' },
] as const;

const WebhookSchema = z.object({
  webhook_id: z.string(),
  name: z.string(),
  url: z.string(),
  events: z.array(z.object({ entity: z.string(), action: z.string() })).default([]),
  status: z.string().optional(),
});
export type MlflowWebhook = z.output<typeof WebhookSchema>;

const ListSchema = z.object({
  webhooks: z.array(WebhookSchema).default([]),
  next_page_token: z.string().optional(),
});
const OneSchema = z.object({ webhook: WebhookSchema });

export interface WebhookSpec {
  readonly name: string;
  readonly url: string;
  readonly secret: string;
  readonly description?: string;
}

export type EnsureResult = { readonly action: 'created' | 'updated'; readonly webhook: MlflowWebhook };

export class MlflowWebhooks {
  private readonly http: MlflowTransport;

  constructor(options: MlflowClientOptions) {
    this.http = new MlflowTransport(options);
  }

  async list(): Promise<MlflowWebhook[]> {
    const found: MlflowWebhook[] = [];
    let token: string | undefined;
    do {
      const page = await this.http.json(
        {
          method: 'GET',
          path: WEBHOOKS,
          query: { max_results: 100, ...(token ? { page_token: token } : {}) },
        },
        ListSchema,
      );
      found.push(...page.webhooks);
      token = page.next_page_token || undefined;
    } while (token);
    return found;
  }

  /** Creates the webhook, or updates the one with the same name (the first, if several). */
  async ensure(spec: WebhookSpec): Promise<EnsureResult> {
    const existing = (await this.list()).find((webhook) => webhook.name === spec.name);
    const fields = {
      name: spec.name,
      url: spec.url,
      events: ALIAS_WEBHOOK_EVENTS,
      secret: spec.secret,
      description: spec.description ?? 'serving manifests: alias moves (mlops)',
      status: 'ACTIVE',
    };
    if (existing) {
      const answer = await this.http.json(
        { method: 'PATCH', path: `${WEBHOOKS}/${encodeURIComponent(existing.webhook_id)}`, json: fields },
        OneSchema,
      );
      return { action: 'updated', webhook: answer.webhook };
    }
    const answer = await this.http.json({ method: 'POST', path: WEBHOOKS, json: fields }, OneSchema);
    return { action: 'created', webhook: answer.webhook };
  }

  /** Deletes a webhook by id; false when it was already gone. */
  async delete(webhookId: string): Promise<boolean> {
    try {
      await this.http.json(
        { method: 'DELETE', path: `${WEBHOOKS}/${encodeURIComponent(webhookId)}` },
        z.object({}).passthrough(),
      );
      return true;
    } catch (error) {
      if (error instanceof MlflowApiError && error.isNotFound) return false;
      throw error;
    }
  }
}

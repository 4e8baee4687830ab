/**
 * The decisions of the MLflow webhook receiver, apart from its environment (webhook-handler.ts
 * builds it from the Lambda's; `npm run serve` from the local one):
 *
 * - no, malformed or wrong signature, or a timestamp outside ±5 minutes → 401, nothing read or written;
 * - a delivery id seen before → 409, nothing written (delivery-log.ts);
 * - an event other than `model_version_alias.created`/`.deleted`, or for a model this stack does
 *   not serve → 202, ignored;
 * - else the alias's manifest is made equal to the registry (publishAliasManifest, via `webhook`):
 *   200 with what was done. A failure releases the delivery id and answers 500, so MLflow's
 *   retry is processed (and the reconciler repairs what no retry reaches).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ALIAS_NAME_PATTERN } from '../core/settings';
import { claimDelivery, releaseDelivery } from './delivery-log';
import type { Publisher } from './sync-config';
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyDelivery } from './webhook-signature';

export const WEBHOOK_PATH = '/webhooks/mlflow';
export const ALIAS_EVENTS = ['model_version_alias.created', 'model_version_alias.deleted'] as const;

export interface WebhookDeps {
  readonly secret: string;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly servedModels: readonly string[];
  readonly publish: Publisher;
  readonly now?: () => Date;
  readonly log?: (entry: Record<string, unknown>) => void;
}

export type WebhookHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export function createWebhookHandler(deps: WebhookDeps): WebhookHandler {
  const served = new Set(deps.servedModels);
  const log = deps.log ?? ((entry) => console.log(JSON.stringify(entry)));
  return async (event) => {
    if (event.httpMethod !== 'POST') return answer(405, { error: `${WEBHOOK_PATH} takes POST` });
    const body =
      event.body === null
        ? ''
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
    const headers = lowerCased(event.headers);
    const verdict = verifyDelivery(
      deps.secret,
      {
        deliveryId: headers[DELIVERY_ID_HEADER],
        timestamp: headers[TIMESTAMP_HEADER],
        signature: headers[SIGNATURE_HEADER],
        body,
      },
      { now: (deps.now ?? (() => new Date()))() },
    );
    if (!verdict.ok) {
      log({ webhook: 'rejected', reason: verdict.reason });
      return answer(401, { error: verdict.reason });
    }
    const deliveryId = verdict.deliveryId;
    const parsed = parseAliasEvent(body);
    if (parsed.kind === 'invalid') return answer(400, { error: parsed.reason, delivery_id: deliveryId });
    if (parsed.kind === 'other') {
      return answer(202, { ignored: `event ${parsed.event} is not an alias move`, delivery_id: deliveryId });
    }
    const { model, alias, event: name } = parsed;
    if (!served.has(model)) {
      return answer(202, { ignored: `model '${model}' is not served here`, delivery_id: deliveryId });
    }
    if (!ALIAS_NAME_PATTERN.test(alias)) {
      return answer(202, {
        ignored: `alias '${alias}' is not a servable alias name`,
        delivery_id: deliveryId,
      });
    }
    if (!(await claimDelivery(deps.s3, deps.bucket, deliveryId))) {
      log({ webhook: 'duplicate', delivery_id: deliveryId, model, alias });
      return answer(409, { error: `delivery ${deliveryId} was already received`, delivery_id: deliveryId });
    }
    try {
      const result = await deps.publish({ model, alias, via: 'webhook' });
      const version = 'manifest' in result ? result.manifest.version : null;
      log({ webhook: name, delivery_id: deliveryId, model, alias, action: result.action, version });
      return answer(200, {
        delivery_id: deliveryId,
        event: name,
        model,
        alias,
        action: result.action,
        version,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log({ webhook: 'failed', delivery_id: deliveryId, model, alias, error: message });
      await releaseDelivery(deps.s3, deps.bucket, deliveryId).catch(() => undefined);
      return answer(500, {
        error: `publishing ${model}@${alias} failed: ${message}`,
        delivery_id: deliveryId,
      });
    }
  };
}

type ParsedEvent =
  | { readonly kind: 'alias'; readonly event: string; readonly model: string; readonly alias: string }
  | { readonly kind: 'other'; readonly event: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** The body MLflow sends: `{"entity", "action", "timestamp", "data": {"name", "alias", "version"?}}`. */
export function parseAliasEvent(body: string): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  if (typeof json !== 'object' || json === null)
    return { kind: 'invalid', reason: 'the body is not a JSON object' };
  const { entity, action, data } = json as { entity?: unknown; action?: unknown; data?: unknown };
  if (typeof entity !== 'string' || typeof action !== 'string') {
    return { kind: 'invalid', reason: 'the body has no "entity" and "action" strings' };
  }
  const event = `${entity}.${action}`;
  if (!(ALIAS_EVENTS as readonly string[]).includes(event)) return { kind: 'other', event };
  const { name, alias } = (data ?? {}) as { name?: unknown; alias?: unknown };
  if (typeof name !== 'string' || name === '')
    return { kind: 'invalid', reason: 'data.name must be the model name' };
  if (typeof alias !== 'string' || alias === '')
    return { kind: 'invalid', reason: 'data.alias must be the alias' };
  return { kind: 'alias', event, model: name, alias };
}

function lowerCased(headers: APIGatewayProxyEvent['headers'] | null | undefined): Record<string, string> {
  const lowered: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) lowered[name.toLowerCase()] = value;
  }
  return lowered;
}

function answer(statusCode: number, body: Record<string, unknown>): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

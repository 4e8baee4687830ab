/**
 * `status`: per registered model, where each alias points (version, run, creation time, the tags
 * the training pipeline sets) and its newest versions; with a predict API URL, what that API has
 * loaded beside what MLflow says.
 */
import { TAGS } from '../lifecycle/tracking-client';
import type { ModelVersion, RegisteredModel } from '../mlflow';
import { type AliasHistoryEntry, historyTagKey, parseAliasHistory, promotedTagKey } from './alias-history';
import {
  type AliasComparison,
  type ApiStatusOptions,
  type ApiStatusReport,
  compareAliases,
  fetchApiStatus,
  statusUrl,
} from './api-status';
import { ModelNotFoundError, RegistryError } from './errors';
import { checkModelName } from './registry-arguments';
import type { RegistryClient } from './registry-client';
import { findVersion, getModel, latestVersions, tagValue } from './registry-lookups';

export interface VersionSummary {
  readonly version: string;
  readonly runId: string | null;
  /** ISO time the version was registered. */
  readonly createdAt: string | null;
  readonly status: string | null;
  /** The training candidate it came from (`mlops.candidate`). */
  readonly candidate: string | null;
  /** The selection metric it was chosen on (`mlops.selection.metric` / `.value`). */
  readonly metric: { readonly name: string; readonly value: string } | null;
  readonly datasetVersion: string | null;
}

export interface AliasSummary {
  readonly alias: string;
  readonly version: string;
  /** Null when the version could not be read (deleted since). */
  readonly details: VersionSummary | null;
  /** When the version last took this alias through mlops (`mlops.promoted_to.<alias>`). */
  readonly promotedAt: string | null;
  /** The promotion gate's reason (`mlops.promotion`). */
  readonly promotion: string | null;
  readonly history: readonly AliasHistoryEntry[];
  /** Set when the history tag could not be read; the rest of the status stands. */
  readonly historyProblem: string | null;
}

export interface ModelStatus {
  readonly model: string;
  readonly createdAt: string | null;
  readonly aliases: readonly AliasSummary[];
  /** Newest first. */
  readonly latestVersions: readonly VersionSummary[];
}

export interface ApiComparison {
  readonly url: string;
  readonly reachable: boolean;
  /** Why there is no comparison: unreachable, HTTP error, not a status body. */
  readonly error: string | null;
  /** The model the API serves and its overall state. */
  readonly model: string | null;
  readonly state: string | null;
  readonly aliasTtlSeconds: number | null;
  readonly aliases: readonly AliasComparison[];
  /** Every alias the API follows serves what MLflow's alias points at. */
  readonly inSync: boolean;
}

export interface RegistryStatus {
  readonly models: readonly ModelStatus[];
  readonly api?: ApiComparison;
}

export interface StatusRequest extends ApiStatusOptions {
  /** One model; every registered model when left out. */
  readonly model?: string;
  /** The predict API's base URL; its `/status` is compared with MLflow. */
  readonly apiUrl?: string;
  /** Newest versions listed per model. @default 5 */
  readonly latest?: number;
}

export async function status(client: RegistryClient, request: StatusRequest = {}): Promise<RegistryStatus> {
  const apiUrl = request.apiUrl === undefined ? undefined : statusUrl(request.apiUrl);
  // The API is asked while MLflow is read: they are independent.
  const apiReport = apiUrl === undefined ? undefined : fetchApiStatus(apiUrl, request);
  const registered =
    request.model === undefined
      ? await allModels(client)
      : [await getModel(client, checkModelName(request.model))];
  const models = await Promise.all(
    registered.map((model) => modelStatus(client, model, request.latest ?? 5)),
  );
  if (apiReport === undefined) return { models };
  return { models, api: await compareWithApi(client, models, await apiReport) };
}

async function allModels(client: RegistryClient): Promise<RegisteredModel[]> {
  const models: RegisteredModel[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.searchRegisteredModels({
      max_results: 100,
      order_by: ['name ASC'],
      ...(pageToken && { page_token: pageToken }),
    });
    models.push(...page.registered_models);
    pageToken = page.next_page_token || undefined;
  } while (pageToken);
  return models;
}

async function modelStatus(
  client: RegistryClient,
  registered: RegisteredModel,
  latest: number,
): Promise<ModelStatus> {
  const model = registered.name;
  const [aliases, newest] = await Promise.all([
    Promise.all(
      [...registered.aliases]
        .sort((a, b) => a.alias.localeCompare(b.alias))
        .map(async ({ alias, version }): Promise<AliasSummary> => {
          const found = await findVersion(client, model, version);
          let history: AliasHistoryEntry[] = [];
          let historyProblem: string | null = null;
          try {
            history = parseAliasHistory(model, alias, tagValue(registered.tags, historyTagKey(alias)));
          } catch (error) {
            if (!(error instanceof RegistryError)) throw error;
            historyProblem = error.message;
          }
          return {
            alias,
            version,
            details: found ? summarize(found) : null,
            promotedAt: found ? (tagValue(found.tags, promotedTagKey(alias)) ?? null) : null,
            promotion: found ? (tagValue(found.tags, TAGS.promotion) ?? null) : null,
            history,
            historyProblem,
          };
        }),
    ),
    latestVersions(client, model, latest),
  ]);
  return {
    model,
    createdAt: isoTime(registered.creation_timestamp),
    aliases,
    latestVersions: newest.map(summarize),
  };
}

function summarize(version: ModelVersion): VersionSummary {
  const metricName = tagValue(version.tags, TAGS.selectionMetric);
  const metricValue = tagValue(version.tags, TAGS.selectionValue);
  return {
    version: version.version,
    runId: version.run_id || null,
    createdAt: isoTime(version.creation_timestamp),
    status: version.status ?? null,
    candidate: tagValue(version.tags, TAGS.candidate) ?? null,
    metric:
      metricName !== undefined && metricValue !== undefined ? { name: metricName, value: metricValue } : null,
    datasetVersion: tagValue(version.tags, TAGS.datasetVersion) ?? null,
  };
}

async function compareWithApi(
  client: RegistryClient,
  models: readonly ModelStatus[],
  report: ApiStatusReport,
): Promise<ApiComparison> {
  if (report.kind !== 'answered') {
    return {
      url: report.url,
      reachable: report.kind === 'invalid',
      error: report.error,
      model: null,
      state: null,
      aliasTtlSeconds: null,
      aliases: [],
      inSync: false,
    };
  }
  const { body } = report;
  const aliases = compareAliases(body, await mlflowAliasesOf(client, models, body.model));
  return {
    url: report.url,
    reachable: true,
    error: null,
    model: body.model,
    state: body.status,
    aliasTtlSeconds: body.alias_ttl_seconds,
    aliases,
    inSync: aliases.every((alias) => alias.inSync),
  };
}

/** Alias → version for the model the API serves, read again if `status` was asked about another model. */
async function mlflowAliasesOf(
  client: RegistryClient,
  models: readonly ModelStatus[],
  model: string,
): Promise<Map<string, string>> {
  const known = models.find((entry) => entry.model === model);
  if (known) return new Map(known.aliases.map((entry) => [entry.alias, entry.version]));
  try {
    const registered = await getModel(client, model);
    return new Map(registered.aliases.map((entry) => [entry.alias, entry.version]));
  } catch (error) {
    // The API serves a model MLflow does not have: every alias shows as not set there.
    if (error instanceof ModelNotFoundError) return new Map();
    throw error;
  }
}

function isoTime(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : new Date(epochMs).toISOString();
}

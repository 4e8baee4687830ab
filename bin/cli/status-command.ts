import { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import {
  type ApiComparison,
  type ModelStatus,
  status,
  statusUrl,
  type VersionSummary,
} from '../../lambdas/core/registry';
import { type ApiCaller, apiCallerFromEnv, callerFetch, localEnv } from '../../localstack/serve/api-client';
import { createOutput, table } from './output';
import { asCliErrors, historyTable, registryClientFromEnv, shortTime } from './registry-cli';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("the registry's aliases and newest versions; with --api, what the predict API has loaded")
    .argument('[model]', 'one registered model (default: all)')
    .option('--api <url>', 'the predict API base URL, to compare its /status (env MLOPS_API_URL)')
    .option(
      '--api-key <key>',
      'API key for a predict API deployed with -c apiAuth=api-key (env MLOPS_API_KEY); without one, calls are signed with SigV4',
    )
    .option('--json', 'print the status as one JSON line')
    .addHelpText(
      'after',
      '\nNeeds MLFLOW_TRACKING_URI. The API re-resolves aliases every ALIAS_TTL, so it may lag a promotion by that long.\n' +
        "--api signs GET /status with SigV4: the AWS SDK's credentials and the URL's region for a deployed API, the local credentials (.local/env) for npm run serve.",
    )
    .action(async (model: string | undefined, opts: { api?: string; apiKey?: string; json?: boolean }) => {
      const out = createOutput(Boolean(opts.json));
      const apiUrl = opts.api ?? (process.env.MLOPS_API_URL || undefined);
      const apiKey = opts.apiKey ?? (process.env.MLOPS_API_KEY || undefined);
      if (apiUrl !== undefined) await asCliErrors(async () => statusUrl(apiUrl));
      const signing =
        apiUrl !== undefined && apiKey === undefined
          ? await asCliErrors(async () => callerFetch(await sigV4CallerFor(apiUrl)))
          : undefined;
      const client = registryClientFromEnv();
      const result = await asCliErrors(() =>
        status(client, {
          ...(model !== undefined && { model }),
          ...(apiUrl !== undefined && { apiUrl }),
          ...(apiKey !== undefined && { apiKey }),
          ...(signing !== undefined && { fetch: signing }),
        }),
      );
      if (result.models.length === 0) out.info(`no registered models in ${client.trackingUri}`);
      for (const entry of result.models) out.info(renderModel(entry));
      if (result.api) out.info(renderApi(result.api));
      out.result(result);
    });
}

function renderModel(model: ModelStatus): string {
  const lines = [`${model.model}  (registered ${shortTime(model.createdAt)})`];
  if (model.aliases.length === 0) lines.push('  no aliases');
  else {
    lines.push(
      indent(
        table(
          ['ALIAS', 'VERSION', 'RUN ID', 'REGISTERED', 'CANDIDATE', 'METRIC', 'PROMOTED'],
          model.aliases.map((alias) => [
            alias.alias,
            alias.version,
            alias.details?.runId ?? (alias.details ? '-' : '(version deleted)'),
            shortTime(alias.details?.createdAt),
            alias.details?.candidate ?? '-',
            metric(alias.details),
            shortTime(alias.promotedAt),
          ]),
        ),
      ),
    );
  }
  lines.push(
    model.latestVersions.length === 0
      ? '  no versions'
      : `  newest versions:\n${indent(
          table(
            ['VERSION', 'RUN ID', 'REGISTERED', 'STATUS', 'CANDIDATE', 'METRIC'],
            model.latestVersions.map((version) => [
              version.version,
              version.runId ?? '-',
              shortTime(version.createdAt),
              version.status ?? '-',
              version.candidate ?? '-',
              metric(version),
            ]),
          ),
        )}`,
  );
  for (const alias of model.aliases) {
    if (alias.historyProblem) lines.push(`  ${alias.alias} history unreadable: ${alias.historyProblem}`);
    else if (alias.history.length > 0) {
      lines.push(`  ${alias.alias} history (newest last):\n${indent(historyTable(alias.history, 3))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function renderApi(api: ApiComparison): string {
  if (!api.reachable) return `predict API ${api.url}: unreachable (${api.error})`;
  if (api.error !== null) return `predict API ${api.url}: no usable status (${api.error})`;
  const head = `predict API ${api.url}: model ${api.model}, ${api.state}, aliases re-resolved every ${api.aliasTtlSeconds} s`;
  const rows = api.aliases.map((alias) => [
    alias.alias,
    alias.mlflowVersion ?? '(not set)',
    alias.resolvedVersion ?? '-',
    alias.loadedVersion ?? '-',
    alias.state,
    shortTime(alias.lastResolvedAt),
    alias.inSync ? 'in sync' : 'MISMATCH',
    alias.lastError ?? '-',
  ]);
  const body = table(
    ['ALIAS', 'MLFLOW', 'RESOLVED', 'LOADED', 'STATE', 'LAST RESOLVED', 'CHECK', 'LAST ERROR'],
    rows,
  );
  const note = api.inSync
    ? ''
    : '\nMISMATCH: the API does not serve what MLflow says (expected for up to the TTL after a move)';
  return `${head}\n${indent(body)}${note}`;
}

function metric(version: VersionSummary | null): string {
  return version?.metric ? `${version.metric.name}=${version.metric.value}` : '-';
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/**
 * Who signs `GET /status`: for `npm run serve` (a loopback URL) the local credentials it checks;
 * for a deployed API the AWS SDK's credential chain (profile, SSO, role) and the region in the
 * execute-api host name (else the SDK's region).
 */
async function sigV4CallerFor(apiUrl: string): Promise<ApiCaller> {
  const { hostname } = new URL(apiUrl);
  if (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '::1') {
    return apiCallerFromEnv({ ...localEnv(), API_AUTH: 'iam' });
  }
  const sdk = new S3Client({});
  try {
    const credentials = await sdk.config.credentials();
    const region =
      /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(hostname)?.[1] ?? (await sdk.config.region());
    return { mode: 'iam', credentials, region };
  } finally {
    sdk.destroy();
  }
}

import { describe, expect, it } from 'vitest';
import { fetchApiStatus, promote, status, statusUrl } from '../../lambdas/core/registry';
import { FakeRegistry } from '../support/registry-fake-client';

/** A `fetch` answering like the predict API's `GET /status`, recording what it was asked. */
function fakeApi(answer: () => Response) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
    return answer();
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const apiBody = (
  aliases: { alias: string; resolved: string | null; loaded: string | null; state?: string }[],
) =>
  Response.json({
    status: 'ok',
    model: 'iris',
    default_alias: 'Production',
    alias_ttl_seconds: 60,
    aliases: aliases.map((a) => ({
      alias: a.alias,
      state: a.state ?? 'ok',
      resolved_version: a.resolved,
      loaded_version: a.loaded,
      run_id: a.loaded ? `run${a.loaded}` : null,
      last_resolved_at: '2025-03-01T10:00:00.000Z',
      last_checked_at: '2025-03-01T10:00:00.000Z',
      last_load_ms: 12,
      last_error: null,
    })),
  });

async function irisWithAliases(): Promise<FakeRegistry> {
  const registry = new FakeRegistry().addModel('iris', 3).addModel('wine', 1);
  await promote(registry, { model: 'iris', version: 2 }, { now: () => new Date('2025-03-01T09:00:00.000Z') });
  await promote(registry, { model: 'iris', version: 3, alias: 'Challenger' });
  const v2 = registry.model('iris').versions.get('2');
  v2?.tags.set('mlops.candidate', 'rf-100');
  v2?.tags.set('mlops.selection.metric', 'f1_macro');
  v2?.tags.set('mlops.selection.value', '0.97');
  return registry;
}

describe('status', () => {
  it('lists every model with its aliases, their versions and tags, and the newest versions', async () => {
    const registry = await irisWithAliases();
    const result = await status(registry);
    expect(result.models.map((m) => m.model)).toEqual(['iris', 'wine']);
    const iris = result.models[0];
    expect(iris?.aliases.map((a) => [a.alias, a.version])).toEqual([
      ['Challenger', '3'],
      ['Production', '2'],
    ]);
    expect(iris?.aliases[1]).toMatchObject({
      details: {
        version: '2',
        runId: 'run2',
        candidate: 'rf-100',
        metric: { name: 'f1_macro', value: '0.97' },
      },
      promotedAt: '2025-03-01T09:00:00.000Z',
    });
    expect(iris?.aliases[1]?.history.map((e) => e.version)).toEqual(['2']);
    expect(iris?.latestVersions.map((v) => v.version)).toEqual(['3', '2', '1']);
    expect(result.api).toBeUndefined();
  });

  it('shows one model when asked, and names a missing one', async () => {
    const registry = await irisWithAliases();
    expect((await status(registry, { model: 'wine' })).models.map((m) => m.model)).toEqual(['wine']);
    await expect(status(registry, { model: 'beer' })).rejects.toThrow(
      "registered model 'beer' does not exist",
    );
  });

  it("sets the API's loaded version beside MLflow's and flags a mismatch", async () => {
    const registry = await irisWithAliases();
    const api = fakeApi(() =>
      apiBody([
        { alias: 'Production', resolved: '2', loaded: '2' },
        { alias: 'Challenger', resolved: '3', loaded: '1', state: 'degraded' },
      ]),
    );
    const result = await status(registry, {
      model: 'iris',
      apiUrl: 'https://api.example/prod/',
      apiKey: 'k1',
      fetch: api.fetch,
    });
    expect(api.calls).toEqual([
      { url: 'https://api.example/prod/status', headers: { accept: 'application/json', 'x-api-key': 'k1' } },
    ]);
    expect(result.api).toMatchObject({ reachable: true, model: 'iris', aliasTtlSeconds: 60, inSync: false });
    expect(result.api?.aliases.map((a) => [a.alias, a.mlflowVersion, a.loadedVersion, a.inSync])).toEqual([
      ['Production', '2', '2', true],
      ['Challenger', '3', '1', false],
    ]);
  });

  it('compares against the model the API serves even when status was asked about another', async () => {
    const registry = await irisWithAliases();
    const api = fakeApi(() => apiBody([{ alias: 'Production', resolved: '2', loaded: '2' }]));
    const result = await status(registry, {
      model: 'wine',
      apiUrl: 'http://127.0.0.1:3000',
      fetch: api.fetch,
    });
    expect(result.api?.inSync).toBe(true);
    expect(result.api?.aliases[0]?.mlflowVersion).toBe('2');
  });

  it('reports an unreachable API as such instead of failing', async () => {
    const registry = await irisWithAliases();
    const refused = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    };
    const result = await status(registry, { apiUrl: 'http://127.0.0.1:9', fetch: refused });
    expect(result.api).toMatchObject({
      url: 'http://127.0.0.1:9/status',
      reachable: false,
      error: 'ECONNREFUSED',
      aliases: [],
    });
    expect(result.models).toHaveLength(2);
  });

  it('reports an answer that is not a status (a missing API key) without failing', async () => {
    const report = await fetchApiStatus('http://api', {
      fetch: fakeApi(() => Response.json({ message: 'Forbidden' }, { status: 403 })).fetch,
    });
    expect(report).toEqual({
      kind: 'invalid',
      url: 'http://api/status',
      error: 'HTTP 403: {"message":"Forbidden"}',
    });
    const wrongShape = await fetchApiStatus('http://api', {
      fetch: fakeApi(() => Response.json({ ok: true })).fetch,
    });
    expect(wrongShape.kind).toBe('invalid');
  });

  it('builds the /status URL once, and refuses what is not http(s)', () => {
    expect(statusUrl('http://127.0.0.1:3000/status')).toBe('http://127.0.0.1:3000/status');
    expect(() => statusUrl('ftp://x')).toThrow(
      "the predict API URL must be an http:// or https:// URL, got 'ftp://x'",
    );
  });
});

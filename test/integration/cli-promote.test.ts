import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { type EntryPointResult, mlops as runMlops } from '../support/entry-point';

// The real `mlops` CLI against the real local MLflow (Postgres backend store).
const env = { ...process.env, ...inject('localEnv') };
const client = MlflowClient.fromEnv(env);
const suffix = randomUUID().slice(0, 8);
const model = `cli-promote-it-${suffix}`;
const untracked = `cli-promote-untracked-${suffix}`;

/** The CLI with this file's environment; asynchronous, as the fake predict API below answers from this event loop. */
const mlops = (...args: string[]) => runMlops(args, { env });

/** The last stdout line, which --json promises is the result. */
function jsonResult(result: EntryPointResult): Record<string, unknown> {
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
}

async function historyTag(name: string, alias = 'Production'): Promise<unknown> {
  const registered = await client.getRegisteredModel(name);
  const value = registered.tags.find((tag) => tag.key === `mlops.alias_history.${alias}`)?.value;
  return value === undefined ? undefined : JSON.parse(value);
}

/** Answers `GET /status` like the predict function serving `model`: Production on v1, Challenger stuck on v2. */
let api: Server;
let apiUrl: string;
/** A port nothing listens on (fetch itself refuses well-known ones such as 9, so a real free port). */
let closedPort: number;

beforeAll(async () => {
  for (const name of [model, untracked]) {
    await client.createRegisteredModel({ name });
    for (let v = 1; v <= 3; v++) {
      await client.createModelVersion({
        name,
        source: `s3://mlflow-artifacts/cli-promote-it/${suffix}/${name}/${v}`,
      });
    }
  }
  api = createServer((request, response) => {
    if (request.url !== '/status') {
      response.writeHead(404).end();
      return;
    }
    const alias = (name: string, version: string) => ({
      alias: name,
      state: 'ok',
      resolved_version: version,
      loaded_version: version,
      run_id: null,
      last_resolved_at: '2025-03-01T10:00:00.000Z',
      last_checked_at: '2025-03-01T10:00:00.000Z',
      last_load_ms: 5,
      last_error: null,
    });
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        status: 'ok',
        model,
        default_alias: 'Production',
        alias_ttl_seconds: 60,
        aliases: [alias('Production', '1'), alias('Challenger', '2')],
      }),
    );
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  api?.close();
  for (const name of [model, untracked]) await client.deleteRegisteredModel(name).catch(() => undefined);
});

describe('mlops promote / rollback / status against the local MLflow', () => {
  it('promotes 1 then 2, rolls back to 1, and keeps the history in a model tag', async () => {
    const first = await mlops('promote', model, '1', '--reason', 'first release', '--json');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(jsonResult(first)).toMatchObject({
      model,
      alias: 'Production',
      version: '1',
      previous: null,
      changed: true,
    });

    const second = await mlops('promote', model, '2');
    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`${model} alias Production: version 1 → version 2`);

    const back = await mlops('rollback', model, '--json');
    expect(back.status).toBe(0);
    expect(jsonResult(back)).toMatchObject({ version: '1', previous: '2', changed: true });

    expect((await client.getModelVersionByAlias(model, 'Production')).version).toBe('1');
    expect(await historyTag(model)).toEqual([
      expect.objectContaining({ action: 'promote', version: '1', previous: null, reason: 'first release' }),
      expect.objectContaining({ action: 'promote', version: '2', previous: '1' }),
      expect.objectContaining({
        action: 'rollback',
        version: '1',
        previous: '2',
        reason: 'rollback from version 2',
      }),
    ]);
    const v1 = await client.getModelVersion(model, 1);
    expect(v1.tags.find((tag) => tag.key === 'mlops.promoted_to.Production')?.value).toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
  });

  it('shows the alias in status, beside what the predict API has loaded', async () => {
    const result = await mlops('status', model, '--api', apiUrl, '--json');
    expect(result.status).toBe(0);
    const status = jsonResult(result) as {
      models: {
        model: string;
        aliases: { alias: string; version: string }[];
        latestVersions: { version: string }[];
      }[];
      api: {
        reachable: boolean;
        inSync: boolean;
        aliases: { alias: string; mlflowVersion: string | null; loadedVersion: string; inSync: boolean }[];
      };
    };
    expect(status.models.map((m) => m.model)).toEqual([model]);
    expect(status.models[0]?.aliases).toEqual([
      expect.objectContaining({ alias: 'Production', version: '1' }),
    ]);
    expect(status.models[0]?.latestVersions.map((v) => v.version)).toEqual(['3', '2', '1']);
    expect(status.api.reachable).toBe(true);
    expect(status.api.aliases).toEqual([
      expect.objectContaining({ alias: 'Production', mlflowVersion: '1', loadedVersion: '1', inSync: true }),
      expect.objectContaining({
        alias: 'Challenger',
        mlflowVersion: null,
        loadedVersion: '2',
        inSync: false,
      }),
    ]);
    expect(status.api.inSync).toBe(false);
  });

  it('says what is wrong, in one line, for a missing version and for a rollback without history', async () => {
    // An alias set outside mlops: no history to roll back along.
    await client.setRegisteredModelAlias(untracked, 'Production', 3);
    const [missing, noHistory, human] = await Promise.all([
      mlops('promote', model, '9'),
      mlops('rollback', untracked),
      mlops('status', untracked, '--api', `http://127.0.0.1:${closedPort}`),
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`mlops: model '${model}' has no version 9; latest versions: 3, 2, 1\n`);
    expect(noHistory.status).toBe(1);
    expect(noHistory.stderr).toBe(
      `mlops: model '${untracked}' alias 'Production' (version 3) has no earlier version in its history; nothing to roll back to\n`,
    );
    expect((await client.getModelVersionByAlias(untracked, 'Production')).version).toBe('3');
    expect(human.status).toBe(0);
    expect(human.stdout).toContain('Production  3');
    expect(human.stdout).toContain(
      `predict API http://127.0.0.1:${closedPort}/status: unreachable (ECONNREFUSED)`,
    );
  });
});

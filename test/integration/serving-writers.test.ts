import { randomUUID } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { manifestKey, parseManifest, versionCopyKey } from '../../lambdas/core/serving-manifest';
import { s3ClientFromEnv } from '../../lambdas/serving-sync/sync-config';
import { mlops as runMlops } from '../support/entry-point';
import { registerServableVersions } from '../support/serving-sync-fixtures';

// `mlops promote`/`rollback` write the alias's serving manifest into the local stack's versioned
// serving bucket, and `mlops history` reads every move back from the bucket's object versions.
const env = { ...process.env, ...inject('localEnv') };
const client = MlflowClient.fromEnv(env);
const s3 = s3ClientFromEnv(env);
const bucket = env.SERVING_BUCKET;
const model = `serving-writers-${randomUUID().slice(0, 8)}`;
let versions: string[] = [];

const mlops = (...args: string[]) => runMlops(args, { env });

async function manifest(alias: string) {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(model, alias) }));
  return parseManifest((await answer.Body?.transformToByteArray()) ?? new Uint8Array(), alias);
}

beforeAll(async () => {
  versions = await registerServableVersions(client, model, 2);
});

afterAll(() => s3.destroy());

describe('the CLI writers and mlops history', () => {
  it('promote, promote, rollback: each writes the manifest, and history lists the three moves newest first', async () => {
    const [v1, v2] = versions as [string, string];
    const first = await mlops('promote', model, v1, '--json');
    expect(first.status, first.stderr).toBe(0);
    const firstResult = JSON.parse(first.stdout.trim().split('\n').at(-1) ?? '');
    expect(firstResult.serving).toEqual({ published: true, bucket, action: 'written', version: v1 });
    expect(await manifest('Production')).toMatchObject({ version: v1, via: 'cli', alias: 'Production' });

    const second = await mlops('promote', model, v2);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain(
      `serving manifest s3://${bucket}/serving/${model}/Production.json: now version ${v2}`,
    );
    const written = await manifest('Production');
    expect(written.version).toBe(v2);
    expect(written.files.map((file) => file.path)).toContain('model.onnx');

    // Each version's copy is recorded, so the rollback below reuses v1's copy instead of downloading it again.
    const copy = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: versionCopyKey(model, v1) }));
    expect(JSON.parse((await copy.Body?.transformToString()) ?? '')).toMatchObject({ model, version: v1 });

    const back = await mlops('rollback', model, '--json');
    expect(back.status, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout.trim().split('\n').at(-1) ?? '').serving).toMatchObject({
      action: 'written',
      version: v1,
    });
    expect((await manifest('Production')).version).toBe(v1);

    const history = await mlops('history', model, '--alias', 'Production', '--json');
    expect(history.status, history.stderr).toBe(0);
    const { moves } = JSON.parse(history.stdout.trim().split('\n').at(-1) ?? '') as {
      moves: { version: string; via: string; kind: string; by: string | null; at: string }[];
    };
    expect(moves.map((move) => [move.kind, move.version, move.via])).toEqual([
      ['moved', v1, 'cli'],
      ['moved', v2, 'cli'],
      ['moved', v1, 'cli'],
    ]);
    expect(moves.every((move) => move.by !== null)).toBe(true);

    const table = await mlops('history', model);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/AT\s+ALIAS\s+VERSION\s+BY\s+VIA\s+RUN ID/);
    expect(table.stdout.match(/Production/g)).toHaveLength(3);
  });

  it('a promote that changes nothing still checks the manifest (already that version)', async () => {
    const [v1] = versions as [string];
    const again = await mlops('promote', model, v1);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Production.json: already version ${v1}`);
  });

  it('history of a model never served says so; a bad --limit is a usage error', async () => {
    const none = await mlops('history', `${model}-never`);
    expect(none.status, none.stderr).toBe(0);
    expect(none.stdout).toContain(`no serving manifest was ever written for ${model}-never`);
    const bad = await mlops('history', model, '--limit', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--limit must be a positive whole number');
  });
});

import { GetObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  manifestHistory,
  type ServingManifest,
  serializeManifest,
} from '../../lambdas/core/serving-manifest';

function manifest(version: string, writtenAt: string, via: ServingManifest['via']): ServingManifest {
  return {
    format: 1,
    model: 'iris',
    alias: 'Production',
    version,
    run_id: `run-${version}`,
    source: `models:/m-${version}`,
    files: [
      {
        path: 'model.onnx',
        uri: `s3://b/models/iris/${version}/model.onnx`,
        sha256: 'a'.repeat(64),
        bytes: 1,
      },
    ],
    signature: null,
    moved_at: writtenAt,
    moved_by: via === 'cli' ? 'alice' : null,
    via,
    written_at: writtenAt,
  };
}

/** ListObjectVersions as S3 answers it (whole-second times; versions and delete markers apart) and GetObject by version id. */
function versionedBucket() {
  const bodies = new Map<string, string>([
    ['v1', serializeManifest(manifest('1', '2026-05-01T10:00:00.100Z', 'cli'))],
    ['v2', serializeManifest(manifest('2', '2026-05-01T10:00:00.700Z', 'pipeline'))],
    ['v3', serializeManifest(manifest('1', '2026-05-01T10:05:00.000Z', 'webhook'))],
    ['c1', 'not json'],
  ]);
  const second = (at: string) => new Date(at);
  return {
    send: async (command: unknown) => {
      if (command instanceof ListObjectVersionsCommand) {
        expect(command.input.Prefix).toBe('serving/iris/');
        return {
          Versions: [
            {
              Key: 'serving/iris/Challenger.json',
              VersionId: 'c1',
              LastModified: second('2026-05-01T09:00:00Z'),
              IsLatest: true,
            },
            {
              Key: 'serving/iris/Production.json',
              VersionId: 'v3',
              LastModified: second('2026-05-01T10:05:00Z'),
              IsLatest: false,
            },
            {
              Key: 'serving/iris/Production.json',
              VersionId: 'v2',
              LastModified: second('2026-05-01T10:00:00Z'),
              IsLatest: false,
            },
            {
              Key: 'serving/iris/Production.json',
              VersionId: 'v1',
              LastModified: second('2026-05-01T10:00:00Z'),
              IsLatest: false,
            },
            {
              Key: 'serving/iris/nested/Other.json',
              VersionId: 'x',
              LastModified: second('2026-05-01T11:00:00Z'),
              IsLatest: true,
            },
          ],
          DeleteMarkers: [
            {
              Key: 'serving/iris/Production.json',
              VersionId: 'd1',
              LastModified: second('2026-05-01T10:10:00Z'),
              IsLatest: true,
            },
          ],
          IsTruncated: false,
        };
      }
      if (command instanceof GetObjectCommand) {
        const body = bodies.get(command.input.VersionId ?? '');
        if (body === undefined) throw new Error(`no version ${command.input.VersionId}`);
        return { Body: { transformToByteArray: async () => new TextEncoder().encode(body) } };
      }
      throw new Error('unexpected command');
    },
  } as unknown as S3Client;
}

describe('manifest history', () => {
  it('lists every write and delete marker, newest first, moves within one second by their written_at', async () => {
    const moves = await manifestHistory(versionedBucket(), 'b', 'iris');
    expect(moves.map((move) => [move.alias, move.kind, move.version, move.via, move.by])).toEqual([
      ['Production', 'deleted', null, null, null],
      ['Production', 'moved', '1', 'webhook', null],
      ['Production', 'moved', '2', 'pipeline', null],
      ['Production', 'moved', '1', 'cli', 'alice'],
      ['Challenger', 'moved', null, null, null],
    ]);
    expect(moves[4]?.problem).toMatch(/versionId=c1 is not JSON/);
    expect(moves[1]).toMatchObject({ at: '2026-05-01T10:05:00.000Z', runId: 'run-1', s3VersionId: 'v3' });
  });

  it('keeps to the limit', async () => {
    expect(await manifestHistory(versionedBucket(), 'b', 'iris', { limit: 2 })).toHaveLength(2);
  });
});

/**
 * The predict API's registry over serving manifests, with the real S3 client and the one thing
 * a unit test may not do — open a socket — replaced by an in-memory bucket behind the client's
 * request handler (ETags, If-None-Match answered 304, NoSuchKey as S3 answers it).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelProblem } from '../../lambdas/core/serving/errors';
import { ManifestRegistry } from '../../lambdas/core/serving/manifest-registry';
import { ModelStore } from '../../lambdas/core/serving/model-store';
import type { ModelFiles } from '../../lambdas/core/serving/registry';
import {
  modelFilesPrefix,
  type ServingManifest,
  serializeManifest,
} from '../../lambdas/core/serving-manifest';
import { irisClassifier, modelFiles } from '../support/predict-model-fixture';

const BUCKET = 'serving-unit';

class MemoryBucket {
  readonly objects = new Map<string, { bytes: Uint8Array; etag: string }>();
  readonly requests: { key: string; conditional: boolean; status: number }[] = [];
  private writes = 0;

  put(key: string, bytes: Uint8Array | string): void {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    this.objects.set(key, { bytes: data, etag: `"etag-${++this.writes}"` });
  }

  client(): S3Client {
    return new S3Client({
      region: 'us-east-1',
      endpoint: 'http://s3.unit.test',
      forcePathStyle: true,
      credentials: { accessKeyId: 'unit', secretAccessKey: 'unit' },
      maxAttempts: 1,
      requestHandler: {
        handle: async (request: { path: string; headers: Record<string, string> }) => {
          const key = decodeURIComponent(request.path.replace(`/${BUCKET}/`, ''));
          const ifNoneMatch = request.headers['if-none-match'];
          const object = this.objects.get(key);
          const status = !object ? 404 : ifNoneMatch === object.etag ? 304 : 200;
          this.requests.push({ key, conditional: ifNoneMatch !== undefined, status });
          const body =
            status === 404
              ? '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'
              : status === 200
                ? Buffer.from(object?.bytes ?? new Uint8Array())
                : '';
          return {
            response: {
              statusCode: status,
              headers: {
                ...(object ? { etag: object.etag } : {}),
                'content-type': status === 404 ? 'application/xml' : 'application/octet-stream',
              },
              body: Readable.from([typeof body === 'string' ? Buffer.from(body) : body]),
            },
          };
        },
      },
    });
  }
}

/** Copies the files under models/iris/<version>/ and writes the alias's manifest naming them. */
function publish(
  bucket: MemoryBucket,
  alias: string,
  version: string,
  files: ModelFiles,
  model = 'iris',
): ServingManifest {
  const prefix = modelFilesPrefix('iris', version);
  const manifest: ServingManifest = {
    format: 1,
    model,
    alias,
    version,
    run_id: `run-${version}`,
    source: `models:/m-${version}`,
    files: [...files.entries()].map(([path, bytes]) => {
      bucket.put(`${prefix}${path}`, bytes);
      return {
        path,
        uri: `s3://${BUCKET}/${prefix}${path}`,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.byteLength,
      };
    }),
    signature: null,
    moved_at: '2026-12-03T10:00:00.000Z',
    moved_by: 'alice',
    via: 'cli',
    written_at: '2026-12-03T10:00:01.000Z',
  };
  bucket.put(`serving/iris/${alias}.json`, serializeManifest(manifest));
  return manifest;
}

const stores: ModelStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function storeOver(registry: ManifestRegistry, now: () => number): ModelStore {
  const store = new ModelStore({
    registry,
    modelName: 'iris',
    defaultAlias: 'Production',
    aliasTtlMs: 5_000,
    maxRows: 10,
    now,
  });
  stores.push(store);
  return store;
}

describe('ManifestRegistry', () => {
  it('resolves an alias from its manifest, then checks it with one conditional GET answered 304', async () => {
    const bucket = new MemoryBucket();
    publish(bucket, 'Production', '3', modelFiles(irisClassifier()));
    const registry = new ManifestRegistry({ s3: bucket.client(), bucket: BUCKET });

    const first = await registry.resolveAlias('iris', 'Production');
    const again = await registry.resolveAlias('iris', 'Production');

    expect(first).toMatchObject({ name: 'iris', version: '3', runId: 'run-3', source: 'models:/m-3' });
    expect(first.manifest).toEqual({
      version: '3',
      run_id: 'run-3',
      moved_at: '2026-12-03T10:00:00.000Z',
      moved_by: 'alice',
      via: 'cli',
      written_at: '2026-12-03T10:00:01.000Z',
      model_onnx_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(again).toBe(first);
    expect(bucket.requests).toEqual([
      { key: 'serving/iris/Production.json', conditional: false, status: 200 },
      { key: 'serving/iris/Production.json', conditional: true, status: 304 },
    ]);
  });

  it('downloads the listed files serving reads, each checked against its sha256', async () => {
    const bucket = new MemoryBucket();
    const files = modelFiles(irisClassifier());
    publish(bucket, 'Production', '3', files);
    const registry = new ManifestRegistry({ s3: bucket.client(), bucket: BUCKET });

    const downloaded = await registry.downloadModel(await registry.resolveAlias('iris', 'Production'));

    expect(downloaded.get('model.onnx')).toEqual(files.get('model.onnx'));
    // The Python environment files are never read: serving does not need them.
    const unused = ['conda.yaml', 'python_env.yaml', 'requirements.txt'];
    expect([...downloaded.keys()].sort()).toEqual(
      [...files.keys()].filter((path) => !unused.includes(path)).sort(),
    );
    expect(bucket.requests.some((request) => unused.some((path) => request.key.endsWith(path)))).toBe(false);
  });

  it('refuses a file whose bytes do not match the manifest, naming the file and both hashes', async () => {
    const bucket = new MemoryBucket();
    const manifest = publish(bucket, 'Production', '3', modelFiles(irisClassifier()));
    const garbage = new TextEncoder().encode('not the model');
    bucket.put(`${modelFilesPrefix('iris', '3')}model.onnx`, garbage);
    const registry = new ManifestRegistry({ s3: bucket.client(), bucket: BUCKET });
    const expected = manifest.files.find((file) => file.path === 'model.onnx')?.sha256 ?? '';
    const actual = createHash('sha256').update(garbage).digest('hex');

    const failure = await registry
      .downloadModel(await registry.resolveAlias('iris', 'Production'))
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ModelProblem);
    expect(failure).toMatchObject({ code: 'CHECKSUM_MISMATCH', permanent: true });
    expect((failure as Error).message).toContain(`model.onnx of version 3`);
    expect((failure as Error).message).toContain(`has sha256 ${actual}, but the manifest says ${expected}`);
  });

  it('never swaps in a mismatched version; retries it only when the manifest is rewritten', async () => {
    const bucket = new MemoryBucket();
    const files = modelFiles(irisClassifier());
    publish(bucket, 'Production', '1', files);
    let clock = 0;
    const store = storeOver(new ManifestRegistry({ s3: bucket.client(), bucket: BUCKET }), () => clock);
    await store.warm();
    expect(store.peek()?.version).toBe('1');

    publish(bucket, 'Production', '2', files);
    bucket.put(`${modelFilesPrefix('iris', '2')}model.onnx`, new TextEncoder().encode('tampered'));
    clock += 5_000;
    await store.refresh();

    expect(store.peek()?.version).toBe('1');
    expect(store.status()).toMatchObject({
      status: 'degraded',
      aliases: [
        {
          state: 'degraded',
          resolved_version: '2',
          loaded_version: '1',
          manifest: { version: '1' },
          last_error: { code: 'CHECKSUM_MISMATCH', version: '2' },
        },
      ],
    });
    // Unchanged manifest: a 304 and the remembered failure, no download.
    const before = bucket.requests.length;
    clock += 5_000;
    await store.refresh();
    expect(bucket.requests.slice(before)).toEqual([
      { key: 'serving/iris/Production.json', conditional: true, status: 304 },
    ]);

    // The writer repairs the copy and rewrites the manifest: the version is tried again and served.
    publish(bucket, 'Production', '2', files);
    clock += 5_000;
    await store.refresh();
    expect(store.peek()?.version).toBe('2');
    expect(store.status().aliases[0]).toMatchObject({
      state: 'ok',
      last_error: null,
      manifest: { version: '2' },
    });
  });

  it('says ALIAS_NOT_FOUND when no manifest is published, MANIFEST_INVALID for a bad one', async () => {
    const bucket = new MemoryBucket();
    const registry = new ManifestRegistry({ s3: bucket.client(), bucket: BUCKET });

    await expect(registry.resolveAlias('iris', 'Production')).rejects.toMatchObject({
      code: 'ALIAS_NOT_FOUND',
      message: `alias 'Production' of model 'iris' is not published: no serving manifest at s3://${BUCKET}/serving/iris/Production.json`,
    });

    bucket.put('serving/iris/Production.json', '{"format": 1, "model": "iris"');
    await expect(registry.resolveAlias('iris', 'Production')).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
    });

    publish(bucket, 'Production', '1', modelFiles(irisClassifier()), 'wine');
    await expect(registry.resolveAlias('iris', 'Production')).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      message: expect.stringContaining(
        "names model 'wine' alias 'Production', not 'iris' alias 'Production'",
      ),
    });
  });
});

/**
 * Reading and writing artifacts where MLflow keeps them: through the tracking server's artifact
 * proxy (`/api/2.0/mlflow-artifacts/artifacts/<path>`) or straight in S3 for `s3://` locations.
 * Both sides offer the same three operations, so the directory helpers work on either.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { encodeArtifactPath, joinArtifactPath } from './artifact-location';
import { MlflowError } from './errors';
import { EmptyResponseSchema, ListProxiedArtifactsResponseSchema } from './schemas';
import type { CallOptions, MlflowTransport } from './transport';

/** A file below an artifact root; `path` is relative to the root, `/`-separated. */
export interface ArtifactFile {
  readonly path: string;
  readonly file_size?: number;
}

/** Artifacts below one root: a proxy path or an S3 prefix. Paths are relative to the root. */
export interface ArtifactStore {
  put(path: string, content: Uint8Array, call?: CallOptions): Promise<void>;
  get(path: string, call?: CallOptions): Promise<Uint8Array>;
  /** Every file below `path` (recursively), with paths relative to the root. */
  listFiles(path: string, call?: CallOptions): Promise<ArtifactFile[]>;
}

const PROXY = '/api/2.0/mlflow-artifacts/artifacts';

/** Artifacts behind the tracking server's proxy (`mlflow server --serve-artifacts`). */
export class ProxyArtifactStore implements ArtifactStore {
  constructor(
    private readonly transport: MlflowTransport,
    /** Relative to the proxy's root, e.g. `2/<run_id>/artifacts`. */
    private readonly root: string,
  ) {}

  async put(path: string, content: Uint8Array, call: CallOptions = {}): Promise<void> {
    await this.transport.json(
      {
        ...call,
        method: 'PUT',
        path: `${PROXY}/${encodeArtifactPath(joinArtifactPath(this.root, path))}`,
        bytes: content,
      },
      EmptyResponseSchema,
    );
  }

  async get(path: string, call: CallOptions = {}): Promise<Uint8Array> {
    return this.transport.bytes({
      ...call,
      method: 'GET',
      path: `${PROXY}/${encodeArtifactPath(joinArtifactPath(this.root, path))}`,
    });
  }

  async listFiles(path: string, call: CallOptions = {}): Promise<ArtifactFile[]> {
    const listed = await this.transport.json(
      { ...call, method: 'GET', path: PROXY, query: { path: joinArtifactPath(this.root, path) } },
      ListProxiedArtifactsResponseSchema,
    );
    const nested = await Promise.all(
      listed.files.map(async (file): Promise<ArtifactFile[]> => {
        // The proxy answers with the base names of the listed directory's entries.
        const child = joinArtifactPath(path, file.path.split('/').pop() ?? file.path);
        if (file.is_dir) return this.listFiles(child, call);
        return [file.file_size === undefined ? { path: child } : { path: child, file_size: file.file_size }];
      }),
    );
    return nested.flat();
  }
}

/** Artifacts under an `s3://bucket/prefix`, read and written with the AWS SDK directly. */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly s3: () => S3Client,
    private readonly bucket: string,
    /** No leading or trailing slash; `''` for the bucket's root. */
    private readonly prefix: string,
  ) {}

  async put(path: string, content: Uint8Array, call: CallOptions = {}): Promise<void> {
    await this.s3().send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: content }), {
      abortSignal: call.signal,
    });
  }

  async get(path: string, call: CallOptions = {}): Promise<Uint8Array> {
    const object = await this.s3().send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }), {
      abortSignal: call.signal,
    });
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  }

  async listFiles(path: string, call: CallOptions = {}): Promise<ArtifactFile[]> {
    const directory = this.key(path);
    const prefix = directory === '' ? '' : `${directory}/`;
    const rootPrefix = this.prefix === '' ? '' : `${this.prefix}/`;
    const files: ArtifactFile[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3().send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        { abortSignal: call.signal },
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith('/')) continue;
        const file = { path: object.Key.slice(rootPrefix.length) };
        files.push(object.Size === undefined ? file : { ...file, file_size: object.Size });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return files;
  }

  private key(path: string): string {
    return joinArtifactPath(this.prefix, path);
  }
}

/** Uploads in parallel, a few at a time: enough to hide latency, few enough for a small Lambda. */
const CONCURRENCY = 8;

/**
 * Uploads every file below `localDir` to `artifactPath` in the store, keeping the directory layout.
 * Returns the uploaded artifact paths. Symbolic links are followed.
 */
export async function uploadDirectory(
  store: ArtifactStore,
  localDir: string,
  artifactPath = '',
  call: CallOptions = {},
): Promise<string[]> {
  const root = resolve(localDir);
  const files = await walk(root);
  const uploaded = files.map((file) => joinArtifactPath(artifactPath, ...relative(root, file).split(sep)));
  await mapLimit(files, CONCURRENCY, async (file, index) => {
    await store.put(uploaded[index] as string, await readFile(file), call);
  });
  return uploaded;
}

/**
 * Downloads every file below `artifactPath` in the store into `localDir`, keeping the layout
 * below `artifactPath`. Returns the local paths written.
 */
export async function downloadDirectory(
  store: ArtifactStore,
  localDir: string,
  artifactPath = '',
  call: CallOptions = {},
): Promise<string[]> {
  const root = resolve(localDir);
  const base = joinArtifactPath(artifactPath);
  const files = await store.listFiles(base, call);
  const written: string[] = [];
  await mapLimit(files, CONCURRENCY, async (file) => {
    const below = base === '' ? file.path : file.path.slice(base.length + 1);
    const target = resolve(root, ...joinArtifactPath(below).split('/'));
    if (target !== root && !target.startsWith(`${root}${sep}`)) {
      throw new MlflowError(`artifact ${file.path} would be written outside ${root}`);
    }
    const content = await store.get(file.path, call);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    written.push(target);
  });
  return written.sort();
}

async function walk(directory: string): Promise<string[]> {
  const entries = await readdir(directory);
  const nested = await Promise.all(
    entries.map(async (name) => {
      const path = join(directory, name);
      const info = await stat(path);
      if (info.isDirectory()) return walk(path);
      return info.isFile() ? [path] : [];
    }),
  );
  return nested.flat().sort();
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

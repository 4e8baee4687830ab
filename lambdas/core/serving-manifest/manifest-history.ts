/**
 * The history of the serving manifests, from the versioned serving bucket: every object version
 * under `serving/<model>/` is one move of an alias (who, when, how, to which version), and every
 * delete marker is an alias that was removed. MLflow keeps no such trail of alias moves; the
 * bucket's versioning does, whoever moved the alias (the CLI, the pipeline, the MLflow UI through
 * the webhook, or the reconciler).
 */
import { GetObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { type ManifestWriter, manifestKey, manifestPrefix, parseManifest } from './manifest';

export interface ManifestMove {
  readonly model: string;
  readonly alias: string;
  /** `moved` for a manifest written; `deleted` for a delete marker (the alias was removed). */
  readonly kind: 'moved' | 'deleted';
  /** The version the alias pointed at after the move; null when deleted. */
  readonly version: string | null;
  /** When the alias moved (the manifest's moved_at; the delete marker's time). */
  readonly at: string;
  readonly by: string | null;
  /** How the move reached the manifest; null for a delete marker (S3 does not say). */
  readonly via: ManifestWriter | null;
  readonly runId: string | null;
  /** The S3 object version id, for `aws s3api get-object --version-id`. */
  readonly s3VersionId: string;
  /** When S3 stored this object version. */
  readonly storedAt: string;
  /** Set when the stored object is not a readable manifest (the move is still listed). */
  readonly problem?: string;
}

/** Every move of the model's aliases (or of one alias), newest first. */
export async function manifestHistory(
  s3: S3Client,
  bucket: string,
  model: string,
  options: { readonly alias?: string; readonly limit?: number } = {},
): Promise<ManifestMove[]> {
  const prefix = options.alias === undefined ? manifestPrefix(model) : manifestKey(model, options.alias);
  const entries: Entry[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
      }),
    );
    for (const version of page.Versions ?? []) {
      if (version.Key && version.VersionId && version.LastModified) {
        entries.push({
          key: version.Key,
          versionId: version.VersionId,
          storedAt: version.LastModified,
          deleted: false,
          latest: version.IsLatest === true,
          order: entries.length,
        });
      }
    }
    for (const marker of page.DeleteMarkers ?? []) {
      if (marker.Key && marker.VersionId && marker.LastModified) {
        entries.push({
          key: marker.Key,
          versionId: marker.VersionId,
          storedAt: marker.LastModified,
          deleted: true,
          latest: marker.IsLatest === true,
          order: entries.length,
        });
      }
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);

  const base = manifestPrefix(model);
  const manifests = entries.filter((entry) => {
    const rest = entry.key.slice(base.length);
    return entry.key.startsWith(base) && rest.endsWith('.json') && !rest.includes('/');
  });
  const moves = await Promise.all(
    manifests.map(async (entry) => ({ entry, move: await readMove(s3, bucket, model, entry) })),
  );
  // S3 times are whole seconds: moves within one second are ordered by the object's latest
  // flag, then the manifest's own written_at, then S3's listing (newest first within a key).
  moves.sort(
    (a, b) =>
      b.entry.storedAt.getTime() - a.entry.storedAt.getTime() ||
      Number(b.entry.latest) - Number(a.entry.latest) ||
      (b.move.writtenAt ?? '').localeCompare(a.move.writtenAt ?? '') ||
      a.entry.order - b.entry.order,
  );
  const sorted = moves.map(({ move: { writtenAt: _, ...move } }) => move);
  return options.limit === undefined ? sorted : sorted.slice(0, options.limit);
}

interface Entry {
  readonly key: string;
  readonly versionId: string;
  readonly storedAt: Date;
  readonly deleted: boolean;
  readonly latest: boolean;
  readonly order: number;
}

async function readMove(
  s3: S3Client,
  bucket: string,
  model: string,
  entry: Entry,
): Promise<ManifestMove & { readonly writtenAt?: string }> {
  const alias = entry.key.slice(manifestPrefix(model).length, -'.json'.length);
  const storedAt = entry.storedAt.toISOString();
  const base = { model, alias, s3VersionId: entry.versionId, storedAt };
  if (entry.deleted) {
    return { ...base, kind: 'deleted', version: null, at: storedAt, by: null, via: null, runId: null };
  }
  const where = `s3://${bucket}/${entry.key}?versionId=${entry.versionId}`;
  try {
    const answer = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: entry.key, VersionId: entry.versionId }),
    );
    const manifest = parseManifest((await answer.Body?.transformToByteArray()) ?? new Uint8Array(), where);
    return {
      ...base,
      kind: 'moved',
      version: manifest.version,
      at: manifest.moved_at,
      by: manifest.moved_by,
      via: manifest.via,
      runId: manifest.run_id,
      writtenAt: manifest.written_at,
    };
  } catch (error) {
    return {
      ...base,
      kind: 'moved',
      version: null,
      at: storedAt,
      by: null,
      via: null,
      runId: null,
      problem: (error as Error).message,
    };
  }
}

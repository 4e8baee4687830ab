/**
 * Artifact URIs as MLflow hands them out (a run's `artifact_uri`, a model version's download URI)
 * and the places they name: a path behind the server's artifact proxy, an S3 prefix, or a path
 * in a run's artifacts.
 */
import { MlflowError } from './errors';

export type ArtifactLocation =
  /** Relative to the proxy's root: `mlflow-artifacts:/2/<run>/artifacts` → `2/<run>/artifacts`. */
  | { readonly kind: 'proxy'; readonly path: string }
  /** `s3://bucket/key`; `key` has no leading or trailing slash (`''` for the bucket's root). */
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  /** `runs:/<run_id>/<path>`: resolved through the run's `artifact_uri`. */
  | { readonly kind: 'run'; readonly runId: string; readonly path: string };

export class UnsupportedArtifactUriError extends MlflowError {
  override name = 'UnsupportedArtifactUriError';

  constructor(readonly uri: string) {
    super(
      `artifact URI ${uri} is not supported: use mlflow-artifacts:/…, s3://bucket/key or runs:/<run_id>/…`,
    );
  }
}

export function parseArtifactUri(uri: string): ArtifactLocation {
  if (uri.startsWith('mlflow-artifacts:')) {
    // `mlflow-artifacts://host:port/path` names the server too; this client always goes through
    // the tracking server it was built for, which is what MLflow's own client does without a host.
    const rest = uri.slice('mlflow-artifacts:'.length);
    const path = rest.startsWith('//') ? rest.slice(2).replace(/^[^/]*/, '') : rest;
    return { kind: 'proxy', path: joinArtifactPath(path) };
  }
  const s3 = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (s3?.[1]) return { kind: 's3', bucket: s3[1], key: joinArtifactPath(s3[2] ?? '') };
  const run = /^runs:\/+([^/]+)\/?(.*)$/.exec(uri);
  if (run?.[1]) return { kind: 'run', runId: run[1], path: joinArtifactPath(run[2] ?? '') };
  throw new UnsupportedArtifactUriError(uri);
}

/** The location of `relativePath` below `location`. */
export function childLocation(location: ArtifactLocation, relativePath: string): ArtifactLocation {
  switch (location.kind) {
    case 'proxy':
      return { kind: 'proxy', path: joinArtifactPath(location.path, relativePath) };
    case 's3':
      return { kind: 's3', bucket: location.bucket, key: joinArtifactPath(location.key, relativePath) };
    case 'run':
      return { kind: 'run', runId: location.runId, path: joinArtifactPath(location.path, relativePath) };
  }
}

export function formatArtifactUri(location: ArtifactLocation): string {
  switch (location.kind) {
    case 'proxy':
      return `mlflow-artifacts:/${location.path}`;
    case 's3':
      return `s3://${location.bucket}/${location.key}`;
    case 'run':
      return `runs:/${location.runId}/${location.path}`;
  }
}

/**
 * Joins artifact path parts with `/`, dropping empty segments and `.`. A `..` segment is refused:
 * artifact paths come from servers and callers, and must never climb out of the artifact root
 * (or, on download, out of the target directory).
 */
export function joinArtifactPath(...parts: string[]): string {
  const segments = parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..'))
    throw new MlflowError(`artifact path ${parts.join('/')} climbs out of its root`);
  return segments.join('/');
}

/** An artifact path as URL path segments. */
export function encodeArtifactPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

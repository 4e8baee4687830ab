/**
 * The serving manifest: one small JSON object per served model and alias
 * (`serving/<model>/<alias>.json` in the serving bucket) saying which version the alias points at
 * and where that version's model files are, with their sha256. It is the only thing the predict
 * API reads, so serving never waits on MLflow; the writers (promote and rollback, the training
 * pipeline, the MLflow webhook, the reconciler) keep it equal to the registry's alias.
 *
 * The model files are copies under `models/<model>/<version>/` in the same bucket, written before
 * the manifest that names them: a registered version never changes, so a copy is made once.
 */
import { z } from 'zod';
import { ALIAS_NAME_PATTERN } from '../settings';

export const MANIFEST_FORMAT = 1;

/** How an alias move reached the manifest, for the history. */
export const MANIFEST_WRITERS = ['cli', 'pipeline', 'webhook', 'reconciler'] as const;
export type ManifestWriter = (typeof MANIFEST_WRITERS)[number];

const SHA256 = /^[0-9a-f]{64}$/;

const ManifestFileSchema = z.object({
  /** Relative to the model directory: `model.onnx`, `MLmodel`, … */
  path: z.string().min(1),
  /** `s3://bucket/key` of the copy. */
  uri: z.string().startsWith('s3://'),
  sha256: z.string().regex(SHA256, 'must be 64 lowercase hex digits'),
  bytes: z.number().int().nonnegative(),
});

export const ServingManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  model: z.string().min(1),
  alias: z.string().regex(ALIAS_NAME_PATTERN),
  version: z.string().regex(/^[1-9][0-9]*$/, 'must be a registered version number'),
  run_id: z.string().nullable(),
  /** The version's `source` in the registry (`models:/m-…`, `runs:/…`, `s3://…`). */
  source: z.string(),
  /** The model directory's files; `model.onnx` is always among them. */
  files: z
    .array(ManifestFileSchema)
    .min(1)
    .refine((files) => files.some((file) => file.path === 'model.onnx'), 'must include model.onnx'),
  /** The MLmodel signature as MLflow writes it (JSON strings), null when the model has none. */
  signature: z
    .object({ inputs: z.string(), outputs: z.string().nullable(), params: z.string().nullable() })
    .nullable(),
  /** When the alias was seen to move (or was moved by the writer), ISO 8601. */
  moved_at: z.string(),
  /** Who moved it, when known (a user, `training-pipeline`); MLflow's webhooks do not say. */
  moved_by: z.string().nullable(),
  via: z.enum(MANIFEST_WRITERS),
  written_at: z.string(),
});

export type ServingManifest = z.infer<typeof ServingManifestSchema>;
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

export class ManifestError extends Error {
  override name = 'ManifestError';
}

export function manifestKey(model: string, alias: string): string {
  return `serving/${encodeURIComponent(model)}/${alias}.json`;
}

/** The prefix every manifest of a model lives under (for listing a model's aliases). */
export function manifestPrefix(model: string): string {
  return `serving/${encodeURIComponent(model)}/`;
}

/** Where a version's model files are copied; versions are immutable, so one copy serves every alias. */
export function modelFilesPrefix(model: string, version: string): string {
  return `models/${encodeURIComponent(model)}/${version}/`;
}

/** Parses a manifest object's bytes; the error names the field that is wrong. */
export function parseManifest(bytes: Uint8Array | string, where: string): ServingManifest {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ManifestError(`${where} is not JSON: ${(error as Error).message}`);
  }
  const parsed = ServingManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'manifest';
    throw new ManifestError(`${where}: ${field} ${issue?.message ?? 'is invalid'}`);
  }
  return parsed.data;
}

export function serializeManifest(manifest: ServingManifest): string {
  return `${JSON.stringify(ServingManifestSchema.parse(manifest), null, 2)}\n`;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new ManifestError(`'${uri}' is not an s3://bucket/key URI`);
  return { bucket: match[1], key: match[2] };
}

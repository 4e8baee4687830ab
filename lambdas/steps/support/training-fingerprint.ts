/**
 * The training pipeline's idea of "the same input": the model it registers into, the dataset
 * version (content-derived, so the same data), the candidates (family and every parameter, defaults
 * filled in), the seed the splits and trainers use, and the selection metric. Two plans with the
 * same fingerprint would train the same candidates on the same rows and select the same way, so
 * the second reuses the version the first registered (tag `mlops.training_fingerprint`).
 *
 * Not in it: the promotion mode (promotion runs again on a reuse), the reason a run was started,
 * and the trainer code itself (a code change with the same inputs reuses the older version).
 */
import { createHash } from 'node:crypto';
import type { CandidateSpec } from '../step-io';

/** Model-version tag carrying the fingerprint of the training run that registered it. */
export const FINGERPRINT_TAG = 'mlops.training_fingerprint';

export interface FingerprintInput {
  readonly modelName: string;
  readonly dataset: { readonly name: string; readonly version: string };
  readonly candidates: readonly CandidateSpec[];
  readonly seed: number;
  readonly selectionMetric: string;
}

/** `tf1-` and the first 32 hex digits of the sha256 of the canonical JSON of the input. */
export function trainingFingerprint(input: FingerprintInput): string {
  const canonical = canonicalJson({
    format: 'mlops-training-fingerprint-v1',
    modelName: input.modelName,
    dataset: { name: input.dataset.name, version: input.dataset.version },
    // Names are unique in a plan; the order candidates are listed in changes nothing they train.
    candidates: [...input.candidates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    seed: input.seed,
    selectionMetric: input.selectionMetric,
  });
  return `tf1-${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}`;
}

/** JSON with object keys sorted at every level, so key order never changes the fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

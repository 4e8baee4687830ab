import { describe, expect, it } from 'vitest';
import type { ModelVersion } from '../../lambdas/core/mlflow';
import { versionFromRun, versionWithTag } from '../../lambdas/core/registry/existing-versions';
import type { CandidateSpec } from '../../lambdas/steps/step-io';
import { canonicalJson, trainingFingerprint } from '../../lambdas/steps/support/training-fingerprint';

const logreg = {
  name: 'logreg',
  family: 'logistic_regression',
  params: { c: 1, max_iter: 200 },
} as CandidateSpec;
const forest = {
  name: 'forest',
  family: 'random_forest',
  params: { max_depth: 3, n_estimators: 50 },
} as CandidateSpec;
const input = {
  modelName: 'iris-classifier',
  dataset: { name: 'iris', version: 'sha256-6d87640411fe7841' },
  candidates: [logreg, forest],
  seed: 42,
  selectionMetric: 'accuracy',
};

describe('training fingerprint', () => {
  it('is the same for the same input, whatever the order of candidates or of their keys', () => {
    const fingerprint = trainingFingerprint(input);
    expect(fingerprint).toMatch(/^tf1-[0-9a-f]{32}$/);
    const reordered = {
      ...input,
      candidates: [
        forest,
        { params: { max_iter: 200, c: 1 }, family: 'logistic_regression', name: 'logreg' } as CandidateSpec,
      ],
    };
    expect(trainingFingerprint(reordered)).toBe(fingerprint);
  });

  it('changes with the dataset version, a candidate parameter, the seed, the metric or the model', () => {
    const fingerprint = trainingFingerprint(input);
    const variants = [
      { ...input, dataset: { name: 'iris', version: 'sha256-0000000000000000' } },
      { ...input, candidates: [{ ...logreg, params: { c: 2, max_iter: 200 } } as CandidateSpec, forest] },
      { ...input, candidates: [logreg] },
      { ...input, seed: 7 },
      { ...input, selectionMetric: 'f1_macro' },
      { ...input, modelName: 'other' },
    ];
    const prints = variants.map(trainingFingerprint);
    expect(new Set([fingerprint, ...prints]).size).toBe(variants.length + 1);
  });

  it('writes canonical JSON: keys sorted at every level, undefined left out', () => {
    expect(canonicalJson({ b: [{ d: 1, c: null }], a: 'x', u: undefined })).toBe(
      '{"a":"x","b":[{"c":null,"d":1}]}',
    );
  });
});

/** A registry search that answers from a list the way MLflow filters it: by name, run_id or one tag. */
function searchingOver(versions: ModelVersion[]) {
  const filters: string[] = [];
  return {
    filters,
    client: {
      async searchModelVersions(request: { filter?: string }) {
        filters.push(request.filter ?? '');
        const name = /name = '([^']*)'/.exec(request.filter ?? '')?.[1];
        const runId = /run_id = '([^']*)'/.exec(request.filter ?? '')?.[1];
        const tag = /tags\.`([^`]*)` = '([^']*)'/.exec(request.filter ?? '');
        return {
          model_versions: versions.filter(
            (v) =>
              v.name === name &&
              (runId === undefined || v.run_id === runId) &&
              (!tag || v.tags?.some((t) => t.key === tag[1] && t.value === tag[2])),
          ),
        };
      },
    } as never,
  };
}

const version = (n: string, extra: Partial<ModelVersion>): ModelVersion =>
  ({ name: 'iris-classifier', version: n, status: 'READY', tags: [], ...extra }) as ModelVersion;

describe('existing versions', () => {
  it('finds the first usable version registered from a run, skipping failed registrations', async () => {
    const { client, filters } = searchingOver([
      version('1', { run_id: 'r1', status: 'FAILED_REGISTRATION' }),
      version('2', { run_id: 'r1' }),
      version('3', { run_id: 'r2' }),
    ]);
    expect((await versionFromRun(client, 'iris-classifier', 'r1'))?.version).toBe('2');
    expect(await versionFromRun(client, 'iris-classifier', 'r9')).toBeUndefined();
    expect(filters[0]).toBe("name = 'iris-classifier' AND run_id = 'r1'");
  });

  it('finds a version by tag, and refuses a tag key the filter syntax cannot hold', async () => {
    const { client, filters } = searchingOver([
      version('4', { tags: [{ key: 'mlops.training_fingerprint', value: 'tf1-ab' }] }),
    ]);
    expect(
      (await versionWithTag(client, 'iris-classifier', 'mlops.training_fingerprint', 'tf1-ab'))?.version,
    ).toBe('4');
    expect(filters[0]).toBe("name = 'iris-classifier' AND tags.`mlops.training_fingerprint` = 'tf1-ab'");
    await expect(versionWithTag(client, 'iris-classifier', 'a`b', 'x')).rejects.toThrow(
      "tag key must be letters, digits, '_', '.' or '-' (got 'a`b')",
    );
    await expect(versionFromRun(client, `it's "odd"`, 'r1')).rejects.toThrow(
      `model cannot hold both ' and " in an MLflow search`,
    );
  });
});

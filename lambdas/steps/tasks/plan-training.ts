/**
 * Plan a training run: which published dataset version (the given one, else the newest), which
 * candidates (the given specs, checked, else the core's default grid for the task), the selection
 * metric, and the whole plan as JSON for the SageMaker trainer.
 *
 * It also fingerprints the run's input (support/training-fingerprint.ts) and looks for a version
 * an earlier run with the same fingerprint registered: the state machine then skips training and
 * reuses it (`reuse`), so running training twice on the same input gives one model version.
 */
import type { Task } from '../../core/data';
import { resolveSelectionMetric } from '../../core/lifecycle/selection-metric';
import { TAGS } from '../../core/lifecycle/tracking-client';
import type { ModelVersion } from '../../core/mlflow';
import { versionWithTag } from '../../core/registry/existing-versions';
import { CandidateSpecError } from '../../core/training';
import {
  type CandidateSpec as CoreCandidateSpec,
  defaultCandidates,
  parseCandidateSpec,
} from '../../core/training/candidate-specs';
import type {
  CandidateSpec,
  DatasetRef,
  PlanTrainingInput,
  PlanTrainingOutput,
  ReusedTraining,
  S3Pointer,
} from '../step-io';
import { datasetRefOf, preparedDatasetOf, readManifest, resolveManifest } from '../support/dataset-manifest';
import { putJson } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';
import { FINGERPRINT_TAG, trainingFingerprint } from '../support/training-fingerprint';
import { newRunId } from '../support/work-area';

export async function planTraining(
  input: PlanTrainingInput,
  context: StepContext,
): Promise<PlanTrainingOutput> {
  const request = input.request ?? {};
  const name = request.dataset?.name ?? context.config.datasetName;
  const manifestAt = await resolveManifest(context, name, request.dataset?.version);
  const manifest = await readManifest(context, manifestAt);
  const dataset: DatasetRef = datasetRefOf(manifest, manifestAt);
  const task = (manifest.contract as { task: Task }).task;
  const candidates = candidateSpecs(request.candidates, task);
  const selection = resolveSelectionMetric(task);
  const fingerprint = trainingFingerprint({
    modelName: context.config.modelName,
    dataset: { name: dataset.name, version: dataset.version },
    candidates,
    seed: preparedDatasetOf(manifest, 'plan').seed,
    selectionMetric: selection.name,
  });
  const existing = await versionWithTag(
    context.mlflow(),
    context.config.modelName,
    FINGERPRINT_TAG,
    fingerprint,
  );
  const runId = newRunId('t');
  const bucket = context.config.buckets.curated;
  const plan: S3Pointer = { bucket, key: `training-runs/${runId}/plan.json` };
  const sageMakerResults: S3Pointer = { bucket, key: `training-runs/${runId}/candidates.json` };
  const output: PlanTrainingOutput = {
    runId,
    experimentName: context.config.experimentName,
    dataset,
    candidates,
    selection,
    plan,
    sageMakerResults,
    fingerprint,
    reuse: existing ? reusedTraining(existing, selection.name) : null,
  };
  await putJson(context.s3, plan, {
    ...output,
    reason: request.reason ?? 'manual',
    drift: request.drift ?? null,
  });
  return output;
}

/** The specs as the core parses them (defaults filled in), names unique; a bad one names its index and field. */
function candidateSpecs(given: readonly unknown[] | undefined, task: Task): CandidateSpec[] {
  let specs: CoreCandidateSpec[];
  if (given === undefined) specs = defaultCandidates(task);
  else {
    if (!Array.isArray(given) || given.length === 0)
      throw new StepInputError('candidates', 'must be a non-empty array');
    specs = given.map((spec, i) => {
      try {
        return parseCandidateSpec(spec);
      } catch (error) {
        if (error instanceof CandidateSpecError) throw new StepInputError(`candidates[${i}]`, error.message);
        throw error;
      }
    });
  }
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new StepInputError('candidates', `name "${spec.name}" is used twice`);
    seen.add(spec.name);
  }
  return specs.map((spec) => ({
    name: spec.name,
    family: spec.family,
    params: { ...spec.params } as CandidateSpec['params'],
  }));
}

/** The reused version as RegisterModel and SelectBest would have reported it, from its tags. */
function reusedTraining(version: ModelVersion, metric: string): ReusedTraining {
  const tag = (key: string) => version.tags?.find((t) => t.key === key)?.value;
  const runId = version.run_id ?? '';
  const source = version.source ?? '';
  const value = Number(tag(TAGS.selectionValue));
  return {
    registered: { name: version.name, version: version.version, mlflowRunId: runId, source, reused: true },
    best: {
      status: 'succeeded',
      candidateId: tag(TAGS.candidate) ?? 'unknown',
      algorithm: tag(TAGS.family) ?? 'unknown',
      mlflowRunId: runId,
      modelUri: source,
      metrics: Number.isFinite(value) ? { [metric]: value } : {},
    },
  };
}

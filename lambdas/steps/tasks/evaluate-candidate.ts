/**
 * Score one trained candidate on the holdout (the published test split) from its exported ONNX
 * directory, through onnxruntime-node — the artifact the predict function will serve, not the
 * in-memory model — so a metric logged here is what the served model scores. The report goes
 * beside the model.
 */
import { s3BlobStore } from '../../core/lifecycle/blob-store';
import { onnxHoldoutMetrics, predictWithOnnx } from '../../core/lifecycle/onnx-holdout';
import { loadSplit } from '../../core/lifecycle/prepare-dataset';
import { readModelDirectory } from '../../core/model-format';
import type { EvaluateCandidateInput, EvaluateCandidateOutput } from '../step-io';
import { markRunFailed } from '../support/candidate-mlflow-run';
import { loadPrepared } from '../support/dataset-manifest';
import { readModelFilesFrom } from '../support/model-files';
import { putJson } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';

export async function evaluateCandidate(
  input: EvaluateCandidateInput,
  context: StepContext,
): Promise<EvaluateCandidateOutput> {
  try {
    const prepared = await loadPrepared(context, input.dataset, input.runId);
    const store = s3BlobStore({ client: context.s3, bucket: context.config.buckets.curated });
    const [directory, holdout] = await Promise.all([
      readModelFilesFrom(context, input.model).then(readModelDirectory),
      loadSplit(prepared, 'test', store),
    ]);
    const scored = onnxHoldoutMetrics(await predictWithOnnx(directory, holdout), holdout);
    const metrics: Record<string, number> = {};
    for (const [name, value] of Object.entries(scored)) if (typeof value === 'number') metrics[name] = value;
    const report = {
      bucket: input.model.bucket,
      key: `${input.model.prefix.replace(/model\/$/, '')}evaluation.json`,
    };
    await putJson(context.s3, report, {
      candidate: input.candidate.name,
      dataset: { name: prepared.name, version: prepared.version },
      holdout: { rows: holdout.rows, split: prepared.splits.test },
      scoredWith: 'onnxruntime-node',
      metrics,
    });
    return { metrics, report };
  } catch (error) {
    await markRunFailed(context.mlflow(), input.mlflowRunId, 'evaluate', error);
    throw error;
  }
}

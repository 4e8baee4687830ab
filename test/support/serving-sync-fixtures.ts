/**
 * Registered versions the serving manifest can be written for: real ONNX model directories
 * (the project's exporter) logged as run artifacts in the local MLflow and registered from there.
 */
import { MlflowClient } from '../../lambdas/core/mlflow';
import { irisClassifier, modelFiles } from './predict-model-fixture';

/** Registers `count` versions of `model`, each a servable iris classifier; returns their numbers. */
export async function registerServableVersions(
  client: MlflowClient,
  model: string,
  count: number,
): Promise<string[]> {
  const experiment = await client.getOrCreateExperiment(`serving-sync-tests`);
  await client.getOrCreateRegisteredModel(model);
  const versions: string[] = [];
  for (let i = 0; i < count; i++) {
    const run = await client.createRun({
      experiment_id: experiment.experiment_id,
      run_name: `${model}-${i + 1}`,
    });
    const root = run.info.artifact_uri;
    for (const [path, bytes] of modelFiles(irisClassifier()))
      await client.writeArtifact(root, `model/${path}`, bytes);
    const version = await client.createModelVersion({
      name: model,
      source: `${root}/model`,
      run_id: run.info.run_id,
    });
    versions.push(version.version);
  }
  return versions;
}

export function clientFor(env: Record<string, string | undefined>): MlflowClient {
  return MlflowClient.fromEnv(env);
}

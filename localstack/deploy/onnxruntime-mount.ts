/**
 * onnxruntime-node for the Lambda containers LocalStack starts. LocalStack's free edition accepts
 * the stack's onnxruntime layer but does not apply it, so the functions that score ONNX models
 * (evaluate, promote, batch predict, the predict API) would not find the package. The deploy
 * copies the layer's content (the same `copyRuntime` the layer is built with) under `.local/` and
 * LocalStack mounts it where the layer would be, `/opt/nodejs/node_modules`
 * (`LAMBDA_DOCKER_FLAGS` in compose.yml). With a paid edition the mount shadows the same files.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyRuntime } from '../../lib/onnxruntime-layer';
import { LOCAL_DIR, ROOT } from '../services/local-paths';

export function onnxRuntimeMountDir(arch: 'x64' | 'arm64'): string {
  return join(LOCAL_DIR, 'localstack', `onnxruntime-linux-${arch}`);
}

/** Copies the layer content once per onnxruntime-node version and architecture; returns the directory. */
export function prepareOnnxRuntimeMount(
  arch: 'x64' | 'arm64',
  nodeModules = join(ROOT, 'node_modules'),
): string {
  const dir = onnxRuntimeMountDir(arch);
  const version = (
    JSON.parse(readFileSync(join(nodeModules, 'onnxruntime-node', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const marker = join(dir, '.version');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === version) return dir;
  rmSync(dir, { recursive: true, force: true });
  copyRuntime(nodeModules, dir, arch);
  writeFileSync(marker, version);
  return dir;
}

/** The `docker run` flags LocalStack adds to every Lambda container (compose: MLOPS_LAMBDA_DOCKER_FLAGS). */
export function lambdaDockerFlags(mountDir: string): string {
  if (/\s/.test(mountDir)) {
    // LAMBDA_DOCKER_FLAGS is split on spaces.
    throw new Error(`the project path must not contain spaces for the LocalStack mount (${mountDir})`);
  }
  return `-v ${mountDir}:/opt/nodejs/node_modules:ro`;
}

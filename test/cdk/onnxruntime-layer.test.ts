/**
 * The onnxruntime-node layer, bundled for real (the stack fixture skips bundling): only the
 * target architecture's Linux binaries, small enough for Lambda, and loadable from its layout.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { OnnxRuntimeLayer } from '../../lib/onnxruntime-layer';

function filesUnder(dir: string): { path: string; bytes: number }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const full = join(entry.parentPath, entry.name);
      return { path: relative(dir, full), bytes: statSync(full).size };
    });
}

/** Synthesizes a stack holding only the layer and returns the bundled asset directory. */
function bundleLayer(architecture: lambda.Architecture): string {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-layer-'));
  const stack = new Stack(new App({ outdir }), 'LayerTest');
  new OnnxRuntimeLayer(stack, 'OnnxRuntime', { architecture });
  const layers = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::LayerVersion'));
  expect(layers).toHaveLength(1);
  const key: string = layers[0]?.Properties.Content.S3Key;
  return join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

describe('OnnxRuntimeLayer', () => {
  it('carries only the linux-x64 binaries, under 100 MB', () => {
    const dir = bundleLayer(lambda.Architecture.X86_64);
    const files = filesUnder(dir);
    const binaries = files.filter((f) => f.path.includes('/bin/napi-v')).map((f) => f.path);
    expect(binaries.length).toBeGreaterThan(0);
    expect(binaries.filter((p) => /\/(darwin|win32)\//.test(p))).toEqual([]);
    expect(binaries.filter((p) => !p.includes('/linux/x64/'))).toEqual([]);
    expect(binaries).toContain(
      'nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    );
    const totalMb = files.reduce((sum, f) => sum + f.bytes, 0) / 1024 / 1024;
    expect(totalMb).toBeLessThan(100);
    const version = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8'),
    ).version;
    expect(
      JSON.parse(readFileSync(join(dir, 'nodejs/node_modules/onnxruntime-node/package.json'), 'utf8'))
        .version,
    ).toBe(version);
    expect(files.map((f) => f.path)).toContain('nodejs/node_modules/onnxruntime-common/package.json');
  });

  it('loads from the layer layout, as the Lambda runtime would resolve it from /opt/nodejs/node_modules', () => {
    const dir = bundleLayer(lambda.Architecture.X86_64);
    const requireFromLayer = createRequire(join(dir, 'nodejs', 'node_modules', 'index.js'));
    const resolved = requireFromLayer.resolve('onnxruntime-node');
    expect(resolved.startsWith(join(dir, 'nodejs', 'node_modules', 'onnxruntime-node'))).toBe(true);
    // Loading the package loads the native binding (only possible on linux-x64, as on this machine).
    if (process.platform === 'linux' && process.arch === 'x64') {
      const ort = requireFromLayer('onnxruntime-node') as { InferenceSession: { create: unknown } };
      expect(typeof ort.InferenceSession.create).toBe('function');
    }
  });

  it('carries only the linux-arm64 binaries for an arm64 stage', () => {
    const binaries = filesUnder(bundleLayer(lambda.Architecture.ARM_64))
      .map((f) => f.path)
      .filter((p) => p.includes('/bin/napi-v'));
    expect(binaries).toContain(
      'nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node',
    );
    expect(binaries.filter((p) => !p.includes('/linux/arm64/'))).toEqual([]);
  });
});

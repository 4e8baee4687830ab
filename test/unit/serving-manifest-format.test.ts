import { describe, expect, it } from 'vitest';
import {
  ManifestError,
  manifestKey,
  modelFilesPrefix,
  parseManifest,
  parseS3Uri,
  type ServingManifest,
  serializeManifest,
} from '../../lambdas/core/serving-manifest';

const manifest: ServingManifest = {
  format: 1,
  model: 'iris-classifier',
  alias: 'Production',
  version: '3',
  run_id: 'abc123',
  source: 'models:/m-0123',
  files: [
    {
      path: 'MLmodel',
      uri: 's3://serving/models/iris-classifier/3/MLmodel',
      sha256: 'a'.repeat(64),
      bytes: 512,
    },
    {
      path: 'model.onnx',
      uri: 's3://serving/models/iris-classifier/3/model.onnx',
      sha256: 'b'.repeat(64),
      bytes: 9,
    },
  ],
  signature: { inputs: '[{"type": "double", "name": "x"}]', outputs: null, params: null },
  moved_at: '2026-12-03T19:00:00.000Z',
  moved_by: 'ana',
  via: 'cli',
  written_at: '2026-12-03T19:00:01.000Z',
};

describe('serving manifest format', () => {
  it('round-trips through its JSON form', () => {
    expect(parseManifest(serializeManifest(manifest), 'test')).toEqual(manifest);
  });

  it('names the field that is wrong', () => {
    const withoutOnnx = { ...manifest, files: manifest.files.slice(0, 1) };
    expect(() => parseManifest(JSON.stringify(withoutOnnx), 's3://b/k')).toThrow(
      /s3:\/\/b\/k: files must include model.onnx/,
    );
    const badSha = { ...manifest, files: [{ ...manifest.files[1], sha256: 'XYZ' }] };
    expect(() => parseManifest(JSON.stringify(badSha), 'm')).toThrow(
      /m: files\.0\.sha256 must be 64 lowercase hex/,
    );
    expect(() => parseManifest(JSON.stringify({ ...manifest, version: '0' }), 'm')).toThrow(
      /version must be/,
    );
    expect(() => parseManifest(JSON.stringify({ ...manifest, via: 'ui' }), 'm')).toThrow(/m: via /);
    expect(() => parseManifest('{not json', 'm')).toThrow(ManifestError);
  });

  it('keys manifests by model and alias, and model copies by version', () => {
    expect(manifestKey('iris-classifier', 'Production')).toBe('serving/iris-classifier/Production.json');
    // Registered model names may hold characters a key should not: they are escaped.
    expect(manifestKey('team/iris model', 'Challenger')).toBe('serving/team%2Firis%20model/Challenger.json');
    expect(modelFilesPrefix('iris-classifier', '3')).toBe('models/iris-classifier/3/');
    expect(parseS3Uri('s3://serving/models/a/3/model.onnx')).toEqual({
      bucket: 'serving',
      key: 'models/a/3/model.onnx',
    });
    expect(() => parseS3Uri('https://example.org/x')).toThrow(/not an s3:\/\/bucket\/key URI/);
  });
});

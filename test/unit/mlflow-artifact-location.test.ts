import { describe, expect, it } from 'vitest';
import {
  childLocation,
  formatArtifactUri,
  joinArtifactPath,
  parseArtifactUri,
  UnsupportedArtifactUriError,
} from '../../lambdas/core/mlflow';

describe('parseArtifactUri', () => {
  it("reads a run's proxied artifact root, with or without the server in it", () => {
    expect(parseArtifactUri('mlflow-artifacts:/3/0a1b/artifacts')).toEqual({
      kind: 'proxy',
      path: '3/0a1b/artifacts',
    });
    expect(parseArtifactUri('mlflow-artifacts://mlflow:5000/3/0a1b/artifacts/')).toEqual({
      kind: 'proxy',
      path: '3/0a1b/artifacts',
    });
  });

  it('reads an S3 location as bucket and key', () => {
    expect(parseArtifactUri('s3://mlflow-artifacts/3/0a1b/artifacts/model')).toEqual({
      kind: 's3',
      bucket: 'mlflow-artifacts',
      key: '3/0a1b/artifacts/model',
    });
    expect(parseArtifactUri('s3://bucket')).toEqual({ kind: 's3', bucket: 'bucket', key: '' });
  });

  it('reads a runs:/ URI as a path in a run', () => {
    expect(parseArtifactUri('runs:/0a1b/model')).toEqual({ kind: 'run', runId: '0a1b', path: 'model' });
  });

  it('refuses a location this client cannot reach', () => {
    expect(() => parseArtifactUri('gs://bucket/key')).toThrow(UnsupportedArtifactUriError);
    expect(() => parseArtifactUri('/tmp/mlruns/0')).toThrow(UnsupportedArtifactUriError);
  });

  it('finds the location of a path below another and writes it back as a URI', () => {
    const model = childLocation(parseArtifactUri('s3://b/3/r/artifacts'), 'model/MLmodel');

    expect(formatArtifactUri(model)).toBe('s3://b/3/r/artifacts/model/MLmodel');
  });
});

describe('joinArtifactPath', () => {
  it('joins parts with single slashes and drops empty and "." segments', () => {
    expect(joinArtifactPath('/a/', '', './b//c/')).toBe('a/b/c');
    expect(joinArtifactPath('')).toBe('');
  });

  it('refuses a path that climbs out of its root', () => {
    expect(() => joinArtifactPath('3/r/artifacts', '../../other')).toThrow(/climbs out/);
  });
});

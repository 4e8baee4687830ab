import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialsFile,
  ensureMlflowCredentials,
  localTrackingCredentials,
  readMlflowCredentials,
} from '../../localstack/services/mlflow-auth';

describe('the local MLflow credentials', () => {
  it('are generated once per state directory, at least 12 characters, in a file only its owner reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-auth-'));
    expect(readMlflowCredentials(dir)).toBeUndefined();
    const first = ensureMlflowCredentials(dir);
    expect(statSync(credentialsFile(dir)).mode & 0o777).toBe(0o600);
    for (const value of Object.values(first)) expect(value.length).toBeGreaterThanOrEqual(12);
    expect(new Set(Object.values(first)).size).toBe(4);
    expect(ensureMlflowCredentials(dir)).toEqual(first);
  });

  it('name the file and the field when the file is damaged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-auth-'));
    writeFileSync(credentialsFile(dir), '{"adminPassword":"short"}');
    expect(() => readMlflowCredentials(dir)).toThrow(
      `${credentialsFile(dir)}: adminPassword is missing or shorter than 12 characters`,
    );
    writeFileSync(credentialsFile(dir), 'nope');
    expect(() => readMlflowCredentials(dir)).toThrow(`${credentialsFile(dir)} is not JSON`);
  });

  it('are the pipelines user for a process talking to the local server without credentials of its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-auth-'));
    const stored = ensureMlflowCredentials(dir);
    const base = { MLOPS_LOCAL_DIR: dir, MLOPS_MLFLOW_PORT: '56999' };
    const pipelines = {
      MLFLOW_TRACKING_USERNAME: 'pipelines',
      MLFLOW_TRACKING_PASSWORD: stored.pipelinesPassword,
    };
    expect(localTrackingCredentials({ ...base, MLFLOW_TRACKING_URI: 'http://127.0.0.1:56999' })).toEqual(
      pipelines,
    );
    expect(localTrackingCredentials({ ...base, MLFLOW_TRACKING_URI: 'http://localhost:56999/' })).toEqual(
      pipelines,
    );
    expect(localTrackingCredentials(base)).toEqual(pipelines);
    // Another server, or credentials of one's own: nothing is added.
    expect(localTrackingCredentials({ ...base, MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' })).toEqual({});
    expect(localTrackingCredentials({ ...base, MLFLOW_TRACKING_URI: 'https://mlflow.example.com' })).toEqual(
      {},
    );
    expect(localTrackingCredentials({ ...base, MLFLOW_TRACKING_USERNAME: 'ada' })).toEqual({});
    expect(localTrackingCredentials({ ...base, MLFLOW_TRACKING_TOKEN: 't0ken' })).toEqual({});
    expect(localTrackingCredentials({ MLOPS_LOCAL_DIR: mkdtempSync(join(tmpdir(), 'mlops-auth-')) })).toEqual(
      {},
    );
  });
});

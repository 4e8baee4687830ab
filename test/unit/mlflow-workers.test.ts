import { describe, expect, it } from 'vitest';
import { mlflowWorkers, sqlAlchemyPool } from '../../lib/mlflow-service';

describe('mlflowWorkers', () => {
  it('runs as many workers as 70% of the task memory holds, at most two per vCPU', () => {
    // 0.7 × 1024 = 717 MiB: the server and one worker (551 MiB measured) fit, two do not.
    expect(mlflowWorkers(1024, 512)).toBe(1);
    expect(mlflowWorkers(2048, 1024)).toBe(2);
    expect(mlflowWorkers(8192, 1024)).toBe(2); // CPU-bound
    expect(mlflowWorkers(512, 256)).toBe(1); // never fewer than one
  });
});

describe('sqlAlchemyPool', () => {
  it('closes every connection after use on Aurora Serverless so the cluster can pause', () => {
    expect(sqlAlchemyPool('aurora-serverless')).toEqual({ MLFLOW_SQLALCHEMYSTORE_POOLCLASS: 'NullPool' });
    expect(sqlAlchemyPool('rds')).toMatchObject({ MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: '2' });
  });
});

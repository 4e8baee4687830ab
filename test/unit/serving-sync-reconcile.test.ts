import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MlflowApiError, type MlflowClient } from '../../lambdas/core/mlflow';
import type { PublishRequest, PublishResult } from '../../lambdas/core/serving-manifest';
import { reconcile } from '../../lambdas/serving-sync/reconcile';
import { servedModelsFrom, webhookSecretFrom } from '../../lambdas/serving-sync/sync-config';

function fakes(aliases: Record<string, string[] | 'missing'>, keys: string[]) {
  const mlflow = {
    getRegisteredModel: async (name: string) => {
      const found = aliases[name];
      if (found === undefined || found === 'missing') {
        throw new MlflowApiError(
          'RESOURCE_DOES_NOT_EXIST',
          404,
          'no such model',
          'GET registered-models/get',
        );
      }
      return { name, aliases: found.map((alias) => ({ alias, version: '1' })) };
    },
  } as unknown as MlflowClient;
  const s3 = {
    send: async (command: unknown) => {
      if (!(command instanceof ListObjectsV2Command)) throw new Error('unexpected command');
      const prefix = command.input.Prefix ?? '';
      return {
        Contents: keys.filter((key) => key.startsWith(prefix)).map((Key) => ({ Key })),
        IsTruncated: false,
      };
    },
  } as unknown as S3Client;
  return { mlflow, s3 };
}

describe('reconciler', () => {
  it('publishes every alias in the registry or in the bucket, and reports each outcome', async () => {
    const { mlflow, s3 } = fakes({ iris: ['Production', 'Challenger'] }, [
      'serving/iris/Production.json',
      'serving/iris/Old.json',
      'serving/iris/nested/x.json',
      'serving/irises/Production.json',
    ]);
    const seen: PublishRequest[] = [];
    const summary = await reconcile({
      mlflow,
      s3,
      bucket: 'b',
      servedModels: ['iris'],
      publish: async (request): Promise<PublishResult> => {
        seen.push(request);
        if (request.alias === 'Old') return { action: 'deleted', previous: '1' };
        if (request.alias === 'Challenger') throw new Error('not an ONNX model directory');
        return { action: 'absent' };
      },
    });
    expect(seen.map((request) => `${request.alias}/${request.via}`)).toEqual([
      'Challenger/reconciler',
      'Old/reconciler',
      'Production/reconciler',
    ]);
    expect(summary).toMatchObject({ deleted: 1, written: 0, failed: 1 });
    expect(summary.models[0]?.aliases[0]).toEqual({
      alias: 'Challenger',
      action: 'failed',
      version: null,
      error: 'not an ONNX model directory',
    });
  });

  it('treats a model not registered as having no aliases (its manifests are removed)', async () => {
    const { mlflow, s3 } = fakes({ iris: 'missing' }, ['serving/iris/Production.json']);
    const summary = await reconcile({
      mlflow,
      s3,
      bucket: 'b',
      servedModels: ['iris'],
      publish: async () => ({ action: 'deleted', previous: '2' }),
    });
    expect(summary.models).toEqual([
      { model: 'iris', aliases: [{ alias: 'Production', action: 'deleted', version: null }] },
    ]);
  });
});

describe('serving-sync settings', () => {
  it('serves SERVED_MODELS, else MODEL_NAME, and names the variable when neither is set', () => {
    expect(servedModelsFrom({ SERVED_MODELS: ' iris, wine ,iris', MODEL_NAME: 'x' })).toEqual([
      'iris',
      'wine',
    ]);
    expect(servedModelsFrom({ MODEL_NAME: 'iris' })).toEqual(['iris']);
    expect(() => servedModelsFrom({})).toThrow(/SERVED_MODELS is required/);
  });

  it('takes the plain webhook secret locally and names the variables when there is none', async () => {
    await expect(webhookSecretFrom({ MLFLOW_WEBHOOK_SECRET: 'plain' })).resolves.toBe('plain');
    await expect(webhookSecretFrom({})).rejects.toThrow(
      /MLFLOW_WEBHOOK_SECRET is required \(or MLFLOW_WEBHOOK_SECRET_ARN\)/,
    );
    await expect(webhookSecretFrom({ MLFLOW_WEBHOOK_SECRET_ARN: 'not-an-arn' })).rejects.toThrow(
      /MLFLOW_WEBHOOK_SECRET_ARN must be a Secrets Manager secret ARN/,
    );
  });
});

describe('stack outputs (mlops history --aws)', () => {
  it('reads one output of a DescribeStacks answer, unescaped, and nothing for a missing key', async () => {
    const { outputValue } = await import('../../bin/cli/stack-outputs');
    const xml = `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><Outputs>
      <member><OutputKey>LandingBucket</OutputKey><OutputValue>landing-1</OutputValue></member>
      <member><Description>manifests</Description><OutputValue>mlops-dev-serving&amp;x</OutputValue><OutputKey>ServingBucket</OutputKey></member>
    </Outputs><StackName>MlopsStack-dev</StackName></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`;
    expect(outputValue(xml, 'ServingBucket')).toBe('mlops-dev-serving&x');
    expect(outputValue(xml, 'LandingBucket')).toBe('landing-1');
    expect(outputValue(xml, 'Nope')).toBeUndefined();
  });
});

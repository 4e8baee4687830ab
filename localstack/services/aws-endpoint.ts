/**
 * The local AWS endpoint: moto server (`aws_endpoint.py`, with LocalStack's `/_aws/ses` mailbox
 * route) for S3 and SES, with MLflow's artifacts bucket in it.
 */
import { join } from 'node:path';
import type { LocalEndpoints } from './endpoints';
import { ROOT, VENV_BIN } from './local-paths';
import { isHealthy, isPortOpen, startDetached, waitHealthy } from './processes';
import { ServiceStartError } from './service-error';

export async function startAwsEndpoint(
  port: number,
  env: LocalEndpoints,
  log: (line: string) => void,
): Promise<void> {
  const url = `${env.AWS_ENDPOINT_URL}/_health`;
  if (!(await isHealthy(url))) {
    if (await isPortOpen(port)) {
      throw new ServiceStartError(`port ${port} is taken by another process; set MLOPS_AWS_PORT`);
    }
    log(`starting the local AWS endpoint (moto server) on ${env.AWS_ENDPOINT_URL}`);
    startDetached(
      'aws',
      join(VENV_BIN, 'python'),
      [join(ROOT, 'localstack', 'services', 'aws_endpoint.py'), '--port', String(port)],
      {},
    );
    await waitHealthy('aws', url, 60_000);
  } else {
    log(`local AWS endpoint already up on ${env.AWS_ENDPOINT_URL}`);
  }
  await ensureBucket(env, env.MLFLOW_ARTIFACTS_BUCKET);
  await ensureBucket(env, env.SERVING_BUCKET, { versioned: true });
}

async function ensureBucket(
  env: LocalEndpoints,
  bucket: string,
  { versioned = false }: { versioned?: boolean } = {},
): Promise<void> {
  const { S3Client, CreateBucketCommand, HeadBucketCommand, PutBucketVersioningCommand } = await import(
    '@aws-sdk/client-s3'
  );
  const s3 = new S3Client({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    await s3
      .send(new HeadBucketCommand({ Bucket: bucket }))
      .catch(() => s3.send(new CreateBucketCommand({ Bucket: bucket })));
    // The serving bucket's object versions are the alias history (`mlops history`), as on AWS.
    if (versioned) {
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }
  } finally {
    s3.destroy();
  }
}

import { APIGatewayClient, GetRestApisCommand } from '@aws-sdk/client-api-gateway';
import { LambdaClient, ListFunctionsCommand, ListLayersCommand } from '@aws-sdk/client-lambda';
import {
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { up } from '../services/services';
import { cdkLocalDeploy, cdkMinistackEnv, contextArgs, LOCALSTACK_ACCOUNT, runCdkLocal } from './cdklocal';
import { type EmulatorAccess, listSchedules, stackStatus } from './emulator-api';
import {
  CDK_OUT_DIR,
  DEPLOYMENT_FILE,
  DeploymentError,
  deploymentContext,
  OUTPUTS_FILE,
  readDeploymentRecord,
  readStackOutputs,
  STACK_NAME,
  writeDeploymentRecord,
} from './localstack-deployment';
import { ministackUrl, startMinistack, stopMinistack } from './ministack';

/** The CDK context of the ministack deployment: LocalStack's, with MLflow on this machine. */
export function ministackContext(
  region: string,
  mlflowUrl: string,
  credentials?: { readonly username?: string; readonly password?: string },
): Record<string, string> {
  return {
    ...deploymentContext(region),
    localstackMlflowUri: mlflowUrl,
    // The local MLflow asks for basic auth: the functions log in as the pipelines' user.
    ...(credentials?.username && credentials.password
      ? { localstackMlflowUser: credentials.username, localstackMlflowPassword: credentials.password }
      : {}),
  };
}

export async function deployToMinistack(log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const region = process.env.AWS_REGION?.trim() || 'us-east-1';

  log('1. local services: Postgres and MLflow (mlops local up)');
  const services = await up({ log: (line) => log(`   ${line}`) });
  const mlflowUrl = services.MLFLOW_TRACKING_URI;

  log('2. ministack (no Docker)');
  const ministack = await startMinistack((line) => log(`   ${line}`));
  log(
    `   ministack ${ministack.health.version} on ${ministack.url}${ministack.reused ? ' (already running)' : ` (up in ${ministack.seconds.toFixed(1)}s)`}, MLflow on ${mlflowUrl}`,
  );

  const env = cdkMinistackEnv(process.env, ministack.url, region);
  const context = contextArgs(
    ministackContext(region, mlflowUrl, {
      username: services.MLFLOW_TRACKING_USERNAME,
      password: services.MLFLOW_TRACKING_PASSWORD,
    }),
  );
  log(`3. cdklocal bootstrap aws://${LOCALSTACK_ACCOUNT}/${region}`);
  await runCdkLocal(
    [
      'bootstrap',
      `aws://${LOCALSTACK_ACCOUNT}/${region}`,
      ...context,
      '--output',
      `${CDK_OUT_DIR}.bootstrap`,
    ],
    env,
    log,
  );

  await cdkLocalDeploy(context, env, log);
  writeDeploymentRecord({ emulator: 'ministack', awsUrl: ministack.url, mlflowUrl, region });

  const outputs = readStackOutputs();
  log('');
  log(`${STACK_NAME} is deployed on ministack (${((performance.now() - started) / 1000).toFixed(0)}s):`);
  log(`  pipelines    ${outputs.DataPipelineArn.replace(/-data$/, '-{data,training,inference,monitoring}')}`);
  log(`  landing      s3://${outputs.LandingBucket}`);
  log(`  predict API  ${outputs.PredictApiUrl} (key id ${outputs.PredictApiKeyId})`);
  log(`  MLflow       ${mlflowUrl}`);
  log(`  outputs      ${OUTPUTS_FILE}`);
  log('Next: npm run local:e2e   Remove: npm run local:deploy -- --destroy');
}

/** What is left of the stack on the emulator; empty when the destroy was complete. */
export interface Leftovers {
  readonly stack: string[];
  readonly buckets: string[];
  readonly functions: string[];
  readonly layers: string[];
  readonly stateMachines: string[];
  readonly schedules: string[];
  readonly restApis: string[];
}

export async function destroyOnMinistack(log: (line: string) => void): Promise<Leftovers> {
  const record = readDeploymentRecord();
  const awsUrl = record?.awsUrl ?? ministackUrl();
  const region = record?.region ?? (process.env.AWS_REGION?.trim() || 'us-east-1');
  if (record && record.emulator !== 'ministack') {
    throw new DeploymentError(
      `the last deployment went to ${record.emulator} (${DEPLOYMENT_FILE}); --destroy removes a ministack deployment`,
    );
  }
  const aws: EmulatorAccess = {
    endpoint: awsUrl,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  try {
    log(`1. empty the buckets of ${STACK_NAME} (the local variant has no auto-delete custom resource)`);
    for (const bucket of await stackBuckets(s3)) {
      const removed = await emptyBucket(s3, bucket);
      log(`   s3://${bucket}: ${removed} object version(s) deleted`);
    }

    log(`2. cdklocal destroy ${STACK_NAME}`);
    const mlflowUrl = record?.mlflowUrl ?? 'http://127.0.0.1:5000';
    await runCdkLocal(
      [
        'destroy',
        STACK_NAME,
        '--force',
        ...contextArgs(ministackContext(region, mlflowUrl)),
        '--output',
        CDK_OUT_DIR,
      ],
      cdkMinistackEnv(process.env, awsUrl, region),
      log,
    );

    log('3. what is left on ministack');
    const left = await leftovers(aws, s3);
    for (const [kind, names] of Object.entries(left)) {
      log(`   ${kind}: ${names.length === 0 ? 'none' : names.join(', ')}`);
    }
    return left;
  } finally {
    s3.destroy();
  }
}

/** The stack's buckets: CDK names them `<stack name, lower case>-<construct path><hash>`. */
async function stackBuckets(s3: S3Client): Promise<string[]> {
  const prefix = `${STACK_NAME.toLowerCase()}-`;
  return ((await s3.send(new ListBucketsCommand({}))).Buckets ?? [])
    .map((bucket) => bucket.Name ?? '')
    .filter((name) => name.startsWith(prefix));
}

async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  let removed = 0;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
      .filter((version) => version.Key !== undefined)
      .map((version) => ({
        Key: version.Key as string,
        ...(version.VersionId && version.VersionId !== 'null' && { VersionId: version.VersionId }),
      }));
    if (objects.length === 0) return removed;
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    if (result.Errors && result.Errors.length > 0) {
      const first = result.Errors[0];
      throw new DeploymentError(
        `s3://${bucket}: could not delete ${first?.Key} (${first?.Code}: ${first?.Message})`,
      );
    }
    removed += objects.length;
  }
}

async function leftovers(aws: EmulatorAccess, s3: S3Client): Promise<Leftovers> {
  const lambda = new LambdaClient(aws);
  const sfn = new SFNClient(aws);
  const apigateway = new APIGatewayClient(aws);
  try {
    const status = await stackStatus(aws, STACK_NAME);
    const functions = ((await lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map(
      (f) => f.FunctionName ?? '',
    );
    const layers = ((await lambda.send(new ListLayersCommand({}))).Layers ?? []).map(
      (l) => l.LayerName ?? '',
    );
    const stateMachines = ((await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).map(
      (m) => m.name ?? '',
    );
    const schedules = (await listSchedules(aws)).map((s) => s.Name);
    const restApis = ((await apigateway.send(new GetRestApisCommand({}))).items ?? []).map(
      (api) => `${api.name} (${api.id})`,
    );
    return {
      stack: status ? [`${STACK_NAME} (${status})`] : [],
      buckets: await stackBuckets(s3),
      functions,
      layers,
      stateMachines,
      schedules,
      restApis,
    };
  } finally {
    lambda.destroy();
    sfn.destroy();
    apigateway.destroy();
  }
}

export { stopMinistack };

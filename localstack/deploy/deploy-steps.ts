import { cdkLocalDeploy, cdkLocalEnv, contextArgs, LOCALSTACK_ACCOUNT, runCdkLocal } from './cdklocal';
import { composeUp, waitForLocalStack } from './compose-stack';
import type { DockerEngine } from './docker-engine';
import {
  deploymentConfig,
  deploymentContext,
  localStackEndpoints,
  OUTPUTS_FILE,
  readStackOutputs,
  STACK_NAME,
  writeDeploymentRecord,
} from './localstack-deployment';
import { lambdaDockerFlags, prepareOnnxRuntimeMount } from './onnxruntime-mount';

export async function deployToLocalStack(
  engine: Extract<DockerEngine, { available: true }>,
  log: (line: string) => void,
): Promise<void> {
  const started = performance.now();
  log(`Docker ${engine.serverVersion}, Compose ${engine.composeVersion}`);

  const endpoints = localStackEndpoints();
  const config = deploymentConfig(endpoints.region);
  const arch = config.lambdaArchitecture === 'arm64' ? 'arm64' : 'x64';

  log(`1. onnxruntime-node (linux-${arch}) for the Lambda containers`);
  const mount = prepareOnnxRuntimeMount(arch);
  log(`   ${mount}`);

  log('2. docker compose up: LocalStack, Postgres, MLflow (localstack/deploy/compose.yml)');
  if (!process.env.LOCALSTACK_AUTH_TOKEN) {
    log(
      '   (LOCALSTACK_AUTH_TOKEN is not set; current LocalStack images ask for one, a free account has it)',
    );
  }
  await composeUp({ ...process.env, MLOPS_LAMBDA_DOCKER_FLAGS: lambdaDockerFlags(mount) }, log);
  const health = await waitForLocalStack(endpoints.awsUrl);
  log(
    `   LocalStack ${health.version} (${health.edition}) on ${endpoints.awsUrl}, MLflow on ${endpoints.mlflowUrl}`,
  );
  if (health.failedServices.length > 0) log(`   services in error: ${health.failedServices.join(', ')}`);

  const env = cdkLocalEnv(process.env, endpoints.awsPort, endpoints.region);
  const context = contextArgs(deploymentContext(endpoints.region));
  log(`3. cdklocal bootstrap aws://${LOCALSTACK_ACCOUNT}/${endpoints.region}`);
  await runCdkLocal(['bootstrap', `aws://${LOCALSTACK_ACCOUNT}/${endpoints.region}`, ...context], env, log);

  await cdkLocalDeploy(context, env, log);

  writeDeploymentRecord({
    emulator: 'localstack',
    awsUrl: endpoints.awsUrl,
    mlflowUrl: endpoints.mlflowUrl,
    region: endpoints.region,
  });
  const outputs = readStackOutputs();
  log('');
  log(`${STACK_NAME} is deployed on LocalStack (${((performance.now() - started) / 1000).toFixed(0)}s):`);
  log(`  pipelines    ${outputs.DataPipelineArn.replace(/-data$/, '-{data,training,inference,monitoring}')}`);
  log(`  landing      s3://${outputs.LandingBucket}`);
  log(`  predict API  ${outputs.PredictApiUrl} (key id ${outputs.PredictApiKeyId})`);
  log(`  MLflow       ${endpoints.mlflowUrl}`);
  log(`  outputs      ${OUTPUTS_FILE}`);
  log('Next: npm run local:e2e   Stop: docker compose -f localstack/deploy/compose.yml down');
}

/**
 * The CDK app: reads the stage config from context (`-c stage=prod`, overrides like
 * `-c alarmEmail=ops@example.com`), builds `MlopsStack-<stage>` and runs cdk-nag's AwsSolutions
 * checks over it. A bad config stops synth with the config error alone, no stack trace.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadStageConfig, type StageConfig } from '../lib/config';

const app = new App();

let config: StageConfig;
try {
  // The region falls back to the CLI's default region (profile or AWS_REGION) before the stage default.
  config = loadStageConfig(
    (key) => app.node.tryGetContext(key) ?? (key === 'region' ? process.env.CDK_DEFAULT_REGION : undefined),
  );
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

// Loaded after the config is known to be good, so a config error answers in a second or two.
const { MlopsStack } = await import('../lib/mlops-stack');
new MlopsStack(app, `MlopsStack-${config.stage}`, {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: config.region },
  description: `Serverless MLOps platform (${config.stage}): pipelines, MLflow registry, predict API`,
  tags: { project: 'serverless-mlops', stage: config.stage },
});
// cdk-nag 3 runs as a validation plugin: any unacknowledged finding fails synth with a report.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

/**
 * The stage's CloudFormation template, synthesized in this process the way `cdk synth` builds it
 * (cdk.json's context plus the given overrides), without bundling the Lambdas or building images:
 * neither changes which resources exist, and no network or Docker is needed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadStageConfig, type StageConfig } from '../config';
import { PROJECT_ROOT } from '../mlops-function';
import type { CfnTemplate } from './idle-cost';

export async function synthStageTemplate(
  stage: string,
  overrides: Readonly<Record<string, unknown>> = {},
): Promise<{ config: StageConfig; template: CfnTemplate }> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const context: Record<string, unknown> = {
    ...cdkJson.context,
    ...overrides,
    stage,
    'aws:cdk:bundling-stacks': [],
    'aws:cdk:enable-path-metadata': true,
  };
  const config = loadStageConfig((key) => context[key]);
  // Loaded after the config is known to be good, as bin/app.ts does.
  const { MlopsStack } = await import('../mlops-stack');
  const outdir = mkdtempSync(join(tmpdir(), `cost-${config.stage}-`));
  try {
    const app = new App({ context, outdir });
    const stack = new MlopsStack(app, `MlopsStack-${config.stage}`, {
      config,
      env: { region: config.region },
    });
    const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
    return { config, template };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

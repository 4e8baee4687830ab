/**
 * Synthesizes each stage once per test process and hands the same stack, template and cloud
 * assembly to every CDK spec (test/cdk/constructs/*.ts, all run from test/cdk/stack.test.ts). The app gets
 * cdk.json's context, so feature flags match `cdk synth`; Lambda bundling is skipped (esbuild
 * output does not change the template's shape, and the layer has its own test).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { loadStageConfig, type Stage, type StageConfig } from '../../lib/config';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { MlopsStack } from '../../lib/mlops-stack';

export interface SynthesizedStage {
  readonly config: StageConfig;
  readonly app: App;
  readonly stack: MlopsStack;
  readonly template: Template;
  readonly assembly: CloudAssembly;
}

const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};
const synthesized = new Map<Stage, SynthesizedStage>();

/** The alarm subscriber the prod stack is synthesized with here, as `-c alarmEmail=` would give it. */
export const PROD_ALARM_EMAIL = 'ops@example.com';

/** The stage's stack as `cdk synth -c stage=<stage>` builds it (default config; prod with its required alarmEmail). */
export function synthStage(stage: Stage): SynthesizedStage {
  const cached = synthesized.get(stage);
  if (cached) return cached;
  const context: Record<string, unknown> = {
    ...cdkJson.context,
    stage,
    // prod requires an alarm subscriber (lib/config.ts).
    ...(stage === 'prod' ? { alarmEmail: PROD_ALARM_EMAIL } : {}),
    'aws:cdk:bundling-stacks': [],
  };
  const config = loadStageConfig((key) => context[key]);
  const app = new App({ context, outdir: mkdtempSync(join(tmpdir(), `cdk-test-${stage}-`)) });
  const stack = new MlopsStack(app, `MlopsStack-${stage}`, { config, env: { region: config.region } });
  const assembly = app.synth();
  const result = { config, app, stack, template: Template.fromStack(stack), assembly };
  synthesized.set(stage, result);
  return result;
}

/** Resource properties of every resource of a type, by logical id. */
export function resourcesOfType(
  template: Template,
  type: string,
): Record<string, { Properties: Record<string, unknown> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>;
}

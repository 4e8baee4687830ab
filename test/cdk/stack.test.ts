/**
 * The CDK construct specs, run in one test file so each stage is synthesized once (the vitest
 * pool isolates files in separate processes; test/support/cdk-stage.ts memoizes within one).
 */
import { beforeAll } from 'vitest';
import { synthStage } from '../support/cdk-stage';
import './constructs/data-lake';
import './constructs/mlflow-service';
import './constructs/functions';
import './constructs/predict-api';
import './constructs/drift-alerts';
import './constructs/pipelines';
import './constructs/schedules';
import './constructs/observability';
import './constructs/nag';
import './constructs/snapshot';

// Synthesis is the slow part (a few seconds of CPU per stage): done once, up front, so each spec
// stays within the unit tier's per-test limit on a busy machine.
beforeAll(() => {
  synthStage('dev');
  synthStage('prod');
}, 120_000);

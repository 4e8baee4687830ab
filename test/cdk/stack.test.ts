/**
 * The CDK construct specs, run in one test file so each stage is synthesized once (the vitest
 * pool isolates files in separate processes; test/cdk/fixture.ts memoizes within one).
 */
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

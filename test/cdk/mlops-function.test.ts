/** MlopsFunction's own checks, on a stack of its own (the whole stack's functions are in stack.test.ts). */
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { MlopsFunction } from '../../lib/mlops-function';

const ONNX_PACKAGE = 'onnxruntime-node';

describe('MlopsFunction', () => {
  it('refuses packages left out of the bundle when no layer provides them', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'ExternalsTest');
    expect(
      () =>
        new MlopsFunction(stack, 'SelectBest', {
          entry: 'lambdas/steps/handlers/select-best.ts',
          description: 'ranks candidates',
          serviceName: 'training-pipeline',
          architecture: lambda.Architecture.X86_64,
          logRetention: logs.RetentionDays.ONE_DAY,
          externalModules: [ONNX_PACKAGE],
        }),
    ).toThrow('MlopsFunctionProps.externalModules (onnxruntime-node) needs the layers that provide them');
  });
});

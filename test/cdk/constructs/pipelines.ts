import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nagFinding } from '../../../lib/nag-acknowledgements';
import {
  applySubstitutions,
  definitionFile,
  PIPELINE_NAMES,
  PIPELINE_STEPS,
  type PipelineName,
  pipelineSubstitutions,
  placeholdersIn,
} from '../../../lib/state-machine-substitutions';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

type Json = Record<string, unknown>;
interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

function machineProperties(pipeline: PipelineName) {
  const { stack, template } = synthStage('dev');
  const id = stack.getLogicalId(
    stack.pipelines.stateMachines[pipeline].stateMachine.node.defaultChild as never,
  );
  return { id, properties: template.toJSON().Resources[id].Properties as Json };
}

function roleStatements(pipeline: PipelineName): Statement[] {
  const { stack, template } = synthStage('dev');
  const roleId = stack.getLogicalId(
    stack.pipelines.stateMachines[pipeline].stateMachine.role.node.defaultChild as never,
  );
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

function sageMakerRoleStatements(): Statement[] {
  const { stack, template } = synthStage('dev');
  const roleId = stack.getLogicalId(stack.pipelines.sageMakerRole.node.defaultChild as never);
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The environment CloudFormation gives a step function, by step name. */
function functionEnvironment(step: 'train-candidate' | 'compute-drift'): Json {
  const { stack, template } = synthStage('dev');
  const id = stack.getLogicalId(stack.pipelines.functions[step].function.node.defaultChild as never);
  const properties = template.toJSON().Resources[id].Properties as { Environment: { Variables: Json } };
  return properties.Environment.Variables;
}

/** CloudFormation values (Ref, GetAtt, Join) as placeholder text, the same for both sides of a comparison. */
const rendered = (map: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(map).map(([key, value]) => [key, nagFinding(value)]));

/** Every Task state of a definition, with those in Map processors and Parallel branches. */
function taskStates(definition: Json): [string, Json][] {
  return Object.entries(definition.States as Record<string, Json>).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, Json]] : []),
    ...(state.ItemProcessor ? taskStates(state.ItemProcessor as Json) : []),
    ...(state.Iterator ? taskStates(state.Iterator as Json) : []),
    ...((state.Branches as Json[] | undefined) ?? []).flatMap(taskStates),
  ]);
}

describe('Pipelines', () => {
  it('deploys four standard state machines that log every event and trace', () => {
    for (const pipeline of PIPELINE_NAMES) {
      expect(machineProperties(pipeline).properties).toMatchObject({
        StateMachineName: `mlops-dev-${pipeline}`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      });
    }
  });

  it('binds exactly the placeholders each ASL file uses', () => {
    for (const pipeline of PIPELINE_NAMES) {
      const substitutions = machineProperties(pipeline).properties.DefinitionSubstitutions as Json;
      expect(Object.keys(substitutions).sort()).toEqual(
        placeholdersIn(readFileSync(definitionFile(pipeline), 'utf8')),
      );
    }
  });

  it('deploys the same document the local runner executes', () => {
    const { stack, assembly } = synthStage('dev');
    for (const pipeline of PIPELINE_NAMES) {
      const { properties } = machineProperties(pipeline);
      const source = readFileSync(definitionFile(pipeline), 'utf8');
      const location = properties.DefinitionS3Location as { Key: string };
      // DefinitionBody.fromFile uploads the file as an asset; this is the object CloudFormation reads.
      const uploaded = readFileSync(join(assembly.directory, `asset.${location.Key}`), 'utf8');
      expect(uploaded).toBe(source);

      const deployed = JSON.parse(
        applySubstitutions(uploaded, rendered(properties.DefinitionSubstitutions as Json)),
      );
      const local = JSON.parse(
        applySubstitutions(
          source,
          rendered(stack.resolve(pipelineSubstitutions(pipeline, stack.pipelines.substitutionInputs))),
        ),
      );
      expect(deployed).toEqual(local);
    }
  });

  it.each(['dev', 'prod'] as const)(
    '%s: bounds every synthesized state machine and every Task, nested ones included, with TimeoutSeconds',
    (stage) => {
      const { stack, template, assembly } = synthStage(stage);
      for (const pipeline of PIPELINE_NAMES) {
        const id = stack.getLogicalId(
          stack.pipelines.stateMachines[pipeline].stateMachine.node.defaultChild as never,
        );
        const properties = template.toJSON().Resources[id].Properties as Json;
        const location = properties.DefinitionS3Location as { Key: string };
        const deployed = JSON.parse(
          applySubstitutions(
            readFileSync(join(assembly.directory, `asset.${location.Key}`), 'utf8'),
            rendered(properties.DefinitionSubstitutions as Json),
          ),
        ) as Json;
        expect(deployed.TimeoutSeconds, `${stage} ${pipeline}: the state machine`).toEqual(
          expect.any(Number),
        );
        const tasks = taskStates(deployed);
        expect(tasks.length, `${stage} ${pipeline}: Tasks`).toBeGreaterThan(0);
        for (const [name, task] of tasks) {
          expect(task.TimeoutSeconds, `${stage} ${pipeline}: Task ${name}`).toEqual(expect.any(Number));
          expect(task.TimeoutSeconds as number).toBeGreaterThan(0);
        }
      }
    },
  );

  it('substitutes the stage settings the state machines branch on', () => {
    expect(machineProperties('training').properties.DefinitionSubstitutions).toMatchObject({
      SageMakerRowThreshold: '200000',
      TrainingMaxConcurrency: '4',
      PromotionMode: 'challenger',
      SageMakerInstanceType: 'ml.m5.xlarge',
    });
    expect(machineProperties('monitoring').properties.DefinitionSubstitutions).toMatchObject({
      DriftThreshold: '0.2',
      RetrainOnDrift: 'false',
    });
    expect(machineProperties('inference').properties.DefinitionSubstitutions).toMatchObject({
      InlineObjectLimit: '100',
    });
  });

  it('lets each state machine invoke only its own step functions', () => {
    const { stack } = synthStage('dev');
    for (const pipeline of PIPELINE_NAMES) {
      const invoke = roleStatements(pipeline).filter((s) => s.Action === 'lambda:InvokeFunction');
      const expected = PIPELINE_STEPS[pipeline].map((step) =>
        stack.resolve(stack.pipelines.functions[step].function.functionArn),
      );
      expect(invoke).toHaveLength(1);
      expect(invoke[0]?.Resource).toHaveLength(expected.length);
      expect(invoke[0]?.Resource).toEqual(expect.arrayContaining(expected));
    }
  });

  it('runs the SageMaker branch with the trainer image, passing only the training role', () => {
    const statements = roleStatements('training');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: [
          'sagemaker:AddTags',
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
        ],
        Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      }),
    );
    expect(JSON.stringify(statements)).toContain(':training-job/mlops-train-*');
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PipelinesSageMakerTrainingRole/), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    });
    const assets = JSON.parse(
      readFileSync(join(synthStage('dev').assembly.directory, 'MlopsStack-dev.assets.json'), 'utf8'),
    ) as { dockerImages: Record<string, { source: { dockerFile?: string; platform?: string } }> };
    expect(Object.values(assets.dockerImages).map((i) => i.source.dockerFile)).toContain(
      'docker/trainer/Dockerfile',
    );
  });

  it('delivers the drift threshold to compute-drift through the state machine only', () => {
    expect(machineProperties('monitoring').properties.DefinitionSubstitutions).toMatchObject({
      DriftThreshold: '0.2',
    });
    expect(functionEnvironment('compute-drift')).not.toHaveProperty('DRIFT_THRESHOLD');
  });

  it("gives the SageMaker trainer the step functions' settings and MLflow's address as its environment", () => {
    const substitutions = machineProperties('training').properties.DefinitionSubstitutions as Json;
    const lambda = functionEnvironment('train-candidate');
    expect(substitutions).toMatchObject({
      ModelName: 'iris-classifier',
      DatasetName: 'iris',
      MlflowTrackingUri: lambda.MLFLOW_TRACKING_URI,
      LandingBucketName: lambda.LANDING_BUCKET,
      CuratedBucketName: lambda.CURATED_BUCKET,
      QuarantineBucketName: lambda.QUARANTINE_BUCKET,
      PredictionsBucketName: lambda.PREDICTIONS_BUCKET,
      MonitoringBucketName: lambda.MONITORING_BUCKET,
    });
    expect(lambda).toMatchObject({ MODEL_NAME: 'iris-classifier', DATASET_NAME: 'iris' });
    expect(substitutions.CuratedBucketName).toEqual({ Ref: expect.stringMatching(/^DataLakeCurated/) });
  });

  it('lets the SageMaker role read datasets and read, write and list training runs in the curated bucket, nothing else in S3', () => {
    const { stack } = synthStage('dev');
    const curated = stack.dataLake.curated;
    const s3 = sageMakerRoleStatements().filter((s) =>
      ([] as string[]).concat(s.Action).some((action) => action.startsWith('s3:')),
    );
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: stack.resolve(curated.arnForObjects('datasets/*')),
      },
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: stack.resolve(curated.arnForObjects('training-runs/*')),
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: stack.resolve(curated.bucketArn),
        Condition: { StringLike: { 's3:prefix': ['training-runs/', 'training-runs/*'] } },
      },
    ]);
    // Models go to MLflow through its artifact proxy: the artifacts bucket is MLflow's alone.
    const artifactsId = stack.getLogicalId(stack.dataLake.artifacts.node.defaultChild as never);
    expect(JSON.stringify(sageMakerRoleStatements())).not.toContain(artifactsId);
  });

  it('runs the training job in the MLflow client security group, which MLflow admits', () => {
    const { stack, template } = synthStage('dev');
    const substitutions = machineProperties('training').properties.DefinitionSubstitutions as Json;
    const clientGroup = stack.resolve(stack.mlflow.clientSecurityGroup.securityGroupId);
    expect(substitutions.SageMakerSecurityGroupId).toEqual(clientGroup);
    // dev has no load balancer: the MLflow task admits the group on its own port.
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 5000,
      ToPort: 5000,
      SourceSecurityGroupId: clientGroup,
    });
  });

  it('lets the Distributed Map start child executions of its own machine and the monitor start training', () => {
    const inference = JSON.stringify(roleStatements('inference'));
    expect(inference).toContain('"Action":"states:StartExecution"');
    expect(inference).toContain(':stateMachine:mlops-dev-inference');
    expect(inference).toContain(':execution:mlops-dev-inference/*');
    const monitoring = roleStatements('monitoring').filter((s) => s.Action === 'states:StartExecution');
    expect(JSON.stringify(monitoring)).toContain(':stateMachine:mlops-dev-training');
  });

  it("lets the training machine's overlap guard list the executions of that machine only", () => {
    const listing = roleStatements('training').filter((s) => s.Action === 'states:ListExecutions');
    expect(listing).toHaveLength(1);
    expect(JSON.stringify(listing[0]?.Resource)).toContain(':stateMachine:mlops-dev-training"');
    for (const pipeline of ['data', 'inference', 'monitoring'] as const) {
      expect(JSON.stringify(roleStatements(pipeline))).not.toContain('states:ListExecutions');
    }
  });
});

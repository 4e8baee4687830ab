import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { PipelineSchedules } from '../../../lib/schedules';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

function isolatedSchedules(enabled: boolean, expression = 'cron(0 3 ? * MON *)') {
  const stack = new Stack(new App(), 'SchedulesTest');
  const stateMachine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Noop')),
  });
  new PipelineSchedules(stack, 'Schedules', {
    enabled,
    schedules: [{ name: 'Retraining', expression, stateMachine, input: { reason: 'schedule' } }],
  });
  return Template.fromStack(stack);
}

describe('PipelineSchedules', () => {
  it('starts the data, training, inference and monitoring pipelines on the configured crons', () => {
    const { template, config } = synthStage('dev');
    const schedules = Object.values(resourcesOfType(template, 'AWS::Scheduler::Schedule')).map(
      (s) => s.Properties,
    );
    const pipelineSchedules = schedules.filter((s) => String(s?.ScheduleExpression).startsWith('cron('));
    expect(pipelineSchedules.map((s) => s?.ScheduleExpression).sort()).toEqual(
      [
        config.schedules.data,
        config.schedules.retraining,
        config.schedules.inference,
        config.schedules.monitoring,
      ].sort(),
    );
    for (const schedule of pipelineSchedules) {
      expect(schedule).toMatchObject({
        State: 'ENABLED',
        ScheduleExpressionTimezone: 'UTC',
        Target: {
          Arn: { Ref: expect.stringMatching(/^Pipelines\w+PipelineStateMachine/) },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [expect.stringMatching(/^Schedules\w+DeadLetters/), 'Arn'] },
          },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        },
      });
    }
  });

  it('gives the retraining run its dataset and reason as input', () => {
    synthStage('dev').template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 ? * MON *)',
      Target: { Input: JSON.stringify({ dataset: { name: 'iris' }, reason: 'schedule' }) },
    });
  });

  it('encrypts the dead-letter queues and refuses plain-HTTP access to them', () => {
    const { template } = synthStage('dev');
    const queues = Object.entries(resourcesOfType(template, 'AWS::SQS::Queue')).filter(([id]) =>
      id.startsWith('Schedules'),
    );
    expect(queues).toHaveLength(4);
    for (const [, queue] of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    // The four pipelines', the health probe's and the serving reconciler's dead-letter queues.
    template.resourceCountIs('AWS::SQS::QueuePolicy', 6);
  });

  it('deploys the schedules disabled when schedules.enabled is false', () => {
    isolatedSchedules(false).hasResourceProperties('AWS::Scheduler::Schedule', { State: 'DISABLED' });
  });

  it('names the schedule and the expected form of a bad expression', () => {
    expect(() => isolatedSchedules(true, 'daily')).toThrow(
      "PipelineSchedulesProps.schedules[Retraining].expression must be cron(…) with six fields or rate(…) (got 'daily')",
    );
  });
});

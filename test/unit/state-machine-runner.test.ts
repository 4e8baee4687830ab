import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  placeholdersOf,
  type RunnerEvent,
  runStateMachine,
  substitute,
  UnboundPlaceholderError,
} from '../../localstack/runner/state-machine-runner';

const FIXTURE = 'test/fixtures/two-step.asl.json';
const substitutions = {
  PrepareArn: 'arn:aws:lambda:us-east-1:000000000000:function:prepare',
  SquareArn: 'arn:aws:lambda:us-east-1:000000000000:function:square',
  HeavyArn: 'arn:aws:states:::sagemaker:createTrainingJob.sync',
};
const handlers = {
  [substitutions.PrepareArn]: (input: unknown) => ({ items: (input as { n: number[] }).n }),
  [substitutions.SquareArn]: (x: unknown) => (x as number) ** 2,
};

describe('runStateMachine', () => {
  it('runs the ASL file with each Task bound to its in-process handler, Map iterations included', async () => {
    const events: RunnerEvent[] = [];
    const output = await runStateMachine(FIXTURE, {
      substitutions,
      handlers,
      input: { n: [2, 3, 4] },
      onEvent: (e) => events.push(e),
    });

    expect(output).toEqual({ items: [2, 3, 4], squares: [4, 9, 16] });
    expect(events.filter((e) => e.type === 'exited' && e.state === 'Square')).toHaveLength(3);
    expect(events.map((e) => e.state)).toContain('Prepare');
  });

  it('fails the execution with a clear error when it reaches a Task that has no local handler', async () => {
    const run = runStateMachine(FIXTURE, { substitutions, handlers, input: { n: [11] } });
    await expect(run).rejects.toThrow(
      'state "Heavy" uses arn:aws:states:::sagemaker:createTrainingJob.sync, which has no local handler',
    );
  });
});

describe('substitute', () => {
  it('lists the placeholders of a definition', () => {
    expect(placeholdersOf(readFileSync(FIXTURE, 'utf8'))).toEqual(['PrepareArn', 'SquareArn', 'HeavyArn']);
  });

  it('refuses a definition with an unbound placeholder, naming it', () => {
    const placeholder = '$' + '{TrainArn}'; // an ASL placeholder, not a template literal
    expect(() => substitute(`{"Resource": "${placeholder}"}`, {})).toThrow(
      new UnboundPlaceholderError(`no value for placeholder(s) ${placeholder}`),
    );
  });
});

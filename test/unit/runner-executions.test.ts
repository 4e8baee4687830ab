/**
 * The local runner answers `states:ListExecutions` (the training pipeline's overlap guard) from
 * the executions it is running in this process, newest first, per state machine.
 */
import { describe, expect, it } from 'vitest';
import { listLocalExecutions, runStateMachine } from '../../localstack/runner/state-machine-runner';

const FIXTURE = 'test/fixtures/list-executions.asl.json';
const HOLD = 'arn:aws:lambda:us-east-1:000000000000:function:hold';
const execution = (n: number) => `arn:aws:states:local:000000000000:execution:list-executions:run-${n}`;

function start(n: number, hold: () => Promise<void> | void, stateMachineArn?: string) {
  return runStateMachine(FIXTURE, {
    substitutions: { HoldArn: HOLD },
    handlers: {
      [HOLD]: async () => {
        await hold();
        return null;
      },
    },
    input: {},
    executionId: execution(n),
    ...(stateMachineArn ? { stateMachineArn } : {}),
  });
}

describe('the local runner, listExecutions', () => {
  it('lists the RUNNING executions of the same state machine, newest first, and forgets finished ones', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = start(1, () => gate);
    const other = start(3, () => gate, 'arn:aws:states:local:000000000000:stateMachine:another');
    const second = await start(2, () => {});
    expect(second).toEqual({ arns: [execution(2), execution(1)] });
    release();
    expect(await first).toEqual({ arns: [execution(1)] });
    await other;
    expect(
      listLocalExecutions({
        StateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:list-executions',
      }),
    ).toEqual({
      Executions: [],
    });
  });

  it('names the missing StateMachineArn, and lists nothing for statuses it does not keep', () => {
    expect(() => listLocalExecutions({ StatusFilter: 'RUNNING' })).toThrow('StateMachineArn is required');
    expect(listLocalExecutions({ StateMachineArn: 'arn:x', StatusFilter: 'SUCCEEDED' })).toEqual({
      Executions: [],
    });
  });
});

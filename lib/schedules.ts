import { Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag-acknowledgements';

export interface PipelineSchedule {
  /** Construct id and schedule description, e.g. `Retraining`. */
  readonly name: string;
  /** EventBridge Scheduler expression, `cron(min hour dom month dow year)` or `rate(…)`. */
  readonly expression: string;
  readonly stateMachine: sfn.IStateMachine;
  /** Execution input. */
  readonly input: Readonly<Record<string, unknown>>;
}

export interface PipelineSchedulesProps {
  readonly schedules: readonly PipelineSchedule[];
  /** Disabled schedules are deployed but do not fire. */
  readonly enabled: boolean;
  /** @default 'UTC' */
  readonly timeZone?: string;
  /** Attempts after the first failed delivery. @default 3 */
  readonly retryAttempts?: number;
  /** Give up delivering (and dead-letter) after this long. @default Duration.hours(1) */
  readonly maxEventAge?: Duration;
}

const EXPRESSION = /^(cron\((\S+\s){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/;

/**
 * EventBridge Scheduler schedules that start the pipelines, each with its own SQS dead-letter
 * queue (an undeliverable start lands there instead of vanishing) and a retry policy.
 */
export class PipelineSchedules extends Construct {
  readonly schedules: Record<string, scheduler.Schedule> = {};
  readonly deadLetterQueues: Record<string, sqs.Queue> = {};

  constructor(scope: Construct, id: string, props: PipelineSchedulesProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 3;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`PipelineSchedulesProps.retryAttempts must be 0-185 (got ${retryAttempts})`);
    }
    const names = new Set<string>();
    for (const schedule of props.schedules) {
      if (!EXPRESSION.test(schedule.expression)) {
        throw new Error(
          `PipelineSchedulesProps.schedules[${schedule.name}].expression must be cron(…) with six fields or rate(…) (got '${schedule.expression}')`,
        );
      }
      if (names.has(schedule.name)) {
        throw new Error(`PipelineSchedulesProps.schedules has two schedules named '${schedule.name}'`);
      }
      names.add(schedule.name);

      const dlq = new sqs.Queue(this, `${schedule.name}DeadLetters`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      acknowledgeRule(dlq, 'SQS3', 'This queue is the dead-letter queue of a Scheduler schedule.');
      this.deadLetterQueues[schedule.name] = dlq;

      this.schedules[schedule.name] = new scheduler.Schedule(this, schedule.name, {
        description: `${schedule.name} pipeline, ${schedule.expression} (${props.timeZone ?? 'UTC'})`,
        schedule: scheduler.ScheduleExpression.expression(
          schedule.expression,
          TimeZone.of(props.timeZone ?? 'UTC'),
        ),
        enabled: props.enabled,
        target: new targets.StepFunctionsStartExecution(schedule.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject(schedule.input),
          deadLetterQueue: dlq,
          retryAttempts,
          maxEventAge: props.maxEventAge ?? Duration.hours(1),
        }),
      });
    }
  }
}

/**
 * The pure parts of the inference and monitoring steps: how predict-batch compares two models'
 * outputs, how compare-predictions adds the summaries up, how a window of several objects is
 * joined, which landing keys are data, how the alert settings are read, and where compute-drift
 * takes its threshold from. The steps themselves
 * run against the real services in test/integration/pipelines-inference-monitoring.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type Column,
  categoricalColumn,
  categoryAt,
  type Frame,
  numericColumn,
} from '../../lambdas/core/data';
import type { OnnxPrediction } from '../../lambdas/core/lifecycle';
import type { ComputeDriftInput } from '../../lambdas/steps/step-io';
import { concatFrames } from '../../lambdas/steps/support/frame-concat';
import { dataObjectFormat } from '../../lambdas/steps/support/landing-batches';
import {
  addUp,
  type BatchSummary,
  comparePair,
  SUMMARY_FORMAT,
  tallyOf,
} from '../../lambdas/steps/support/prediction-summary';
import type { StepContext } from '../../lambdas/steps/support/step-context';
import { computeDrift } from '../../lambdas/steps/tasks/compute-drift';
import { alertSettingsFrom } from '../../lambdas/steps/tasks/send-drift-alert';

/** A frame from plain columns: numbers become numeric columns, strings categorical ones. */
function frameOf(columns: Record<string, number[] | string[]>): Frame {
  const entries = Object.entries(columns);
  const rowCount = entries[0]?.[1].length ?? 0;
  return {
    rowCount,
    columns: new Map<string, Column>(
      entries.map(([name, values]) => {
        if (typeof values[0] === 'number')
          return [name, numericColumn(Float64Array.from(values as number[]))];
        const levels = [...new Set(values as string[])];
        return [
          name,
          categoricalColumn(
            Int32Array.from(values as string[], (v) => levels.indexOf(v)),
            levels,
          ),
        ];
      }),
    ),
  };
}

const classified = (labels: string[], probabilities: number[], classes: string[]): OnnxPrediction => ({
  task: 'classification',
  labels,
  probabilities: Float64Array.from(probabilities),
  classes,
});

describe('comparing Production with Challenger on one batch', () => {
  it('counts agreeing labels and sums the total variation distance, aligning classes by name', () => {
    // Prepare: the Challenger orders its classes differently.
    const production = classified(['a', 'b'], [0.9, 0.1, 0.4, 0.6], ['a', 'b']);
    const challenger = classified(['a', 'a'], [0.2, 0.8, 0.5, 0.5], ['b', 'a']);
    // Act
    const pair = comparePair(production, challenger);
    // Assess: row 1 gaps |0.9-0.8| + |0.1-0.2| = 0.2 → 0.1; row 2 |0.4-0.5| + |0.6-0.5| = 0.2 → 0.1.
    expect(pair.agreements).toBe(1);
    expect(pair.gapSum).toBeCloseTo(0.2, 12);
  });

  it('counts a class only one model knows as probability 0 for the other', () => {
    const production = classified(['a'], [1, 0], ['a', 'b']);
    const challenger = classified(['c'], [1], ['c']);
    expect(comparePair(production, challenger)).toEqual({ agreements: 0, gapSum: 1 });
  });

  it('compares regressors by their absolute difference, with no agreement count', () => {
    const a: OnnxPrediction = { task: 'regression', values: Float64Array.from([1, 2]) };
    const b: OnnxPrediction = { task: 'regression', values: Float64Array.from([1.5, 1]) };
    expect(comparePair(a, b)).toEqual({ agreements: null, gapSum: 1.5 });
  });
});

describe('adding up the batch summaries of a run', () => {
  const summary = (rows: number, agreements: number, gapSum: number, labels: Record<string, number>) =>
    ({
      format: SUMMARY_FORMAT,
      object: { bucket: 'b', key: `k${rows}` },
      rows,
      rejectedRows: 1,
      production: { version: '1', labelCounts: labels },
      challenger: { version: '2', labelCounts: { a: rows } },
      agreements,
      gapSum,
    }) satisfies BatchSummary;

  it('weights every row equally, however the rows were spread over objects', () => {
    const totals = addUp([summary(10, 9, 1, { a: 10 }), summary(30, 15, 3, { a: 10, b: 20 })]);
    expect(totals).toMatchObject({ objects: 2, rows: 40, rejectedRows: 2, agreementRate: 24 / 40 });
    expect(totals.meanProbabilityGap).toBeCloseTo(0.1, 12);
    expect(totals.labelShares.production).toEqual({ a: 0.5, b: 0.5 });
    expect(totals.labelShares.challenger).toEqual({ a: 1 });
  });

  it('has no agreement or gap without a Challenger', () => {
    const alone: BatchSummary = {
      ...summary(4, 0, 0, { a: 4 }),
      challenger: null,
      agreements: null,
      gapSum: null,
    };
    expect(addUp([alone])).toMatchObject({ rows: 4, agreementRate: null, meanProbabilityGap: null });
    expect(addUp([alone]).labelShares).toEqual({ production: { a: 1 }, challenger: null });
  });

  it('tallies predicted labels per model', () => {
    expect(tallyOf(classified(['a', 'b', 'a'], [1, 0, 0, 1, 1, 0], ['a', 'b']), '3')).toEqual({
      version: '3',
      labelCounts: { a: 2, b: 1 },
    });
  });
});

describe('joining the objects of a monitoring window', () => {
  it('merges categorical levels and fills a column an object lacks with missing values', () => {
    const first = frameOf({ x: [1, 2], colour: ['red', 'blue'] });
    const second = frameOf({ colour: ['green', 'red'] });
    const joined: Frame = concatFrames([first, second], 'request.current');
    expect(joined.rowCount).toBe(4);
    const x = joined.columns.get('x');
    expect(x?.kind === 'numeric' && Array.from(x.values)).toEqual([1, 2, Number.NaN, Number.NaN]);
    const colour = joined.columns.get('colour');
    if (colour?.kind !== 'categorical') throw new Error('colour is not categorical');
    expect([0, 1, 2, 3].map((row) => categoryAt(colour, row))).toEqual(['red', 'blue', 'green', 'red']);
  });

  it('refuses a column that is numeric in one object and categorical in another, naming the field', () => {
    const numeric: Frame = { rowCount: 1, columns: new Map([['v', numericColumn(Float64Array.of(1))]]) };
    const text: Frame = {
      rowCount: 1,
      columns: new Map([['v', categoricalColumn(Int32Array.of(0), ['x'])]]),
    };
    expect(() => concatFrames([numeric, text], 'request.current')).toThrow(/request\.current: column "v"/);
  });
});

describe('data objects of a landing batch', () => {
  it.each([
    ['landing/iris/2025-06-01/part-0.csv', 'csv'],
    ['landing/iris/2025-06-01/rows.jsonl', 'jsonl'],
    ['landing/iris/2025-06-01/x.parquet', 'parquet'],
    ['landing/iris/2025-06-01/input_schema.json', null],
    ['landing/iris/2025-06-01/', null],
    ['landing/iris/2025-06-01/_SUCCESS', null],
    ['landing/iris/2025-06-01/notes.txt', null],
  ])('%s is %s', (key, format) => {
    expect(dataObjectFormat(key)).toBe(format);
  });
});

describe('alert settings', () => {
  it('reads the sender and comma-separated recipients lib/drift-alerts.ts sets', () => {
    expect(alertSettingsFrom({ ALERT_SENDER: 'a@x.org', ALERT_RECIPIENTS: 'b@x.org, c@x.org' })).toEqual({
      sender: 'a@x.org',
      recipients: ['b@x.org', 'c@x.org'],
    });
  });

  it('names the variable at fault', () => {
    expect(() => alertSettingsFrom({ ALERT_RECIPIENTS: 'b@x.org' })).toThrow(/^ALERT_SENDER /);
    expect(() => alertSettingsFrom({ ALERT_SENDER: 'a@x.org', ALERT_RECIPIENTS: 'nobody' })).toThrow(
      /^ALERT_RECIPIENTS /,
    );
  });
});

describe('the drift threshold', () => {
  it("comes from the Task input (the state machine's DriftThreshold) alone: without it the step stops before any I/O", async () => {
    // Prepare: a context that fails any use, and an environment that would have been the second channel.
    const context = {
      env: { DRIFT_THRESHOLD: '0.2' },
      get config(): never {
        throw new Error('the step read its config');
      },
    } as unknown as StepContext;
    const input = { request: {} } as unknown as ComputeDriftInput;

    // Act
    const error = await computeDrift(input, context).then(
      () => undefined,
      (e: unknown) => e as Error & { field?: string },
    );

    // Assess
    expect(error).toMatchObject({ name: 'StepInputError', field: 'threshold' });
  });
});

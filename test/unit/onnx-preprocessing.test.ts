import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportToOnnx } from '../../lambdas/core/onnx';
import { graphFeeds } from '../../lambdas/core/serving/frame-scoring';
import {
  type CandidateSpec,
  type FittedModel,
  type Prediction,
  parseCandidateSpec,
  predictFrame,
  trainCandidate,
} from '../../lambdas/core/training';
import { carsSplits, UNKNOWN_ORIGIN } from '../fixtures/cars-data';

// Every family trained on cars (a string category, missing values) answers the same through its
// exported graph (per-column inputs, in-graph imputation and one-hot) as through the TypeScript
// predictor, including for an unknown and a missing category and missing numbers.

const [regression, classification] = await Promise.all([
  carsSplits('regression'),
  carsSplits('classification'),
]);

const spec = (family: string, params: Record<string, unknown> = {}): CandidateSpec =>
  parseCandidateSpec({ name: family, family, params });

/** The graph's answer in the predictor's shape: probabilities rows × classes, or values. */
async function runGraph(model: FittedModel, frame: typeof regression.probe): Promise<Prediction> {
  const bytes = exportToOnnx(model);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run(graphFeeds(bytes, frame));
    const rows = frame.rowCount;
    if (model.task === 'regression') {
      return { task: 'regression', values: Float64Array.from(out.prediction?.data as Float32Array) };
    }
    const classes = model.classes ?? [];
    const probabilities = new Float64Array(rows * classes.length);
    classes.forEach((name, k) => {
      const column = out[`probability_${name}`]?.data as Float32Array;
      for (let i = 0; i < rows; i++) probabilities[i * classes.length + k] = column[i] as number;
    });
    const labels = Int32Array.from(out.label?.data as string[], (label) => classes.indexOf(label));
    return { task: 'classification', labels, probabilities, classes };
  } finally {
    await session.release();
  }
}

describe('cars models: ONNX graph vs TypeScript predictor', () => {
  it.each([
    ['ridge', spec('ridge')],
    ['random_forest', spec('random_forest', { n_estimators: 20 })],
    ['gradient_boosting', spec('gradient_boosting', { max_iter: 30 })],
  ])('%s regression answers the same, unknown and missing values included', async (_name, candidate) => {
    const model = trainCandidate(candidate, regression.train, 3);

    const ours = predictFrame(model, regression.probe);
    const graph = await runGraph(model, regression.probe);

    if (ours.task !== 'regression' || graph.task !== 'regression') throw new Error('not a regression');
    expect(graph.values.length).toBe(regression.probe.rowCount);
    graph.values.forEach((value, i) => {
      expect(value).toBeCloseTo(ours.values[i] as number, 3);
    });
    expect(ours.values.every(Number.isFinite)).toBe(true);
  });

  it.each([
    ['logistic_regression', spec('logistic_regression')],
    ['random_forest', spec('random_forest', { n_estimators: 20 })],
    ['gradient_boosting', spec('gradient_boosting', { max_iter: 20 })],
  ])('%s classification answers the same labels and probabilities', async (_name, candidate) => {
    const model = trainCandidate(candidate, classification.train, 3);

    const ours = predictFrame(model, classification.probe);
    const graph = await runGraph(model, classification.probe);

    if (ours.task !== 'classification' || graph.task !== 'classification')
      throw new Error('not a classifier');
    expect(graph.classes).toEqual(['3', '4', '5', '6', '8']);
    graph.probabilities.forEach((p, j) => {
      expect(p).toBeCloseTo(ours.probabilities[j] as number, 5);
    });
    const k = graph.classes.length;
    for (let i = 0; i < classification.probe.rowCount; i++) {
      const row = Array.from(ours.probabilities.subarray(i * k, (i + 1) * k)).sort((a, b) => b - a);
      // A near-tie may fall either way in float32; every clear winner must agree.
      if ((row[0] as number) - (row[1] as number) > 1e-4) expect(graph.labels[i]).toBe(ours.labels[i]);
    }
  });

  it('one-hot encodes Origin (no ordinal code) and treats an unknown Origin as a missing one', async () => {
    const model = trainCandidate(spec('ridge'), regression.train, 0);
    expect(model.features).toEqual([
      'Cylinders',
      'Displacement',
      'Horsepower',
      'Weight_in_lbs',
      'Acceleration',
      'Year',
      'Origin=Europe',
      'Origin=Japan',
      'Origin=USA',
    ]);
    const origin = regression.probe.columns.get('Origin');
    if (origin?.kind !== 'categorical') throw new Error('Origin');
    expect(origin.levels[origin.codes[0] as number]).toBe(UNKNOWN_ORIGIN);

    // Rows 0 (unknown) and 1 (missing) made identical but for Origin answer alike: all-zero one-hot.
    const twins = twinRows(regression.probe);
    const ours = predictFrame(model, twins);
    const graph = await runGraph(model, twins);

    if (ours.task !== 'regression' || graph.task !== 'regression') throw new Error('not a regression');
    expect(ours.values[0]).toBeCloseTo(ours.values[1] as number, 10);
    expect(graph.values[0]).toBeCloseTo(graph.values[1] as number, 4);
    expect(ours.values[0]).not.toBeCloseTo(ours.values[2] as number, 3);
  });

  it('imputes the training mean for a missing number, in the graph as in the predictor', async () => {
    const model = trainCandidate(spec('ridge'), regression.train, 0);
    const horsepower = model.inputs?.find((input) => input.name === 'Horsepower');
    const column = regression.train.raw?.columns.get('Horsepower');
    if (horsepower?.kind !== 'numeric' || column?.kind !== 'numeric') throw new Error('Horsepower');
    const present = column.values.filter((value) => !Number.isNaN(value));
    expect(horsepower.mean).toBeCloseTo(present.reduce((a, b) => a + b, 0) / present.length, 10);
    expect(horsepower).toMatchObject({ dtype: 'double', nullable: true });
    expect(model.inputs?.find((input) => input.name === 'Cylinders')).toMatchObject({ dtype: 'int64' });

    const probe = regression.probe;
    const withMean = new Map(probe.columns);
    const values = Float64Array.from((probe.columns.get('Horsepower') as { values: Float64Array }).values);
    values[2] = horsepower.mean as number;
    withMean.set('Horsepower', { kind: 'numeric', values });
    const imputed = predictFrame(model, { rowCount: probe.rowCount, columns: withMean });
    const missing = await runGraph(model, probe);

    if (imputed.task !== 'regression' || missing.task !== 'regression') throw new Error('not a regression');
    expect(missing.values[2]).toBeCloseTo(imputed.values[2] as number, 3);
  });

  it('writes the known categories into the graph metadata', async () => {
    const model = trainCandidate(spec('random_forest', { n_estimators: 2 }), classification.train, 0);
    const session = await ort.InferenceSession.create(exportToOnnx(model));
    try {
      expect(session.inputNames).toEqual([
        'Miles_per_Gallon',
        'Displacement',
        'Horsepower',
        'Weight_in_lbs',
        'Acceleration',
        'Year',
        'Origin',
      ]);
      expect(session.outputNames).toEqual([
        'label',
        ...['3', '4', '5', '6', '8'].map((c) => `probability_${c}`),
      ]);
    } finally {
      await session.release();
    }
    const { inspectOnnx } = await import('../../lambdas/core/onnx');
    const info = inspectOnnx(exportToOnnx(model));
    expect(JSON.parse(info.metadata.feature_categories ?? '')).toEqual({
      Origin: ['Europe', 'Japan', 'USA'],
    });
  });
});

/** Rows 0-2 of the probe with every column of row 0, but Origin: unknown, missing, and USA. */
function twinRows(probe: typeof regression.probe): typeof regression.probe {
  const columns = new Map<string, ReturnType<typeof probe.columns.get> & object>();
  for (const [name, column] of probe.columns) {
    if (column.kind === 'numeric') {
      columns.set(name, {
        kind: 'numeric',
        values: Float64Array.from([0, 0, 0], () => column.values[4] as number),
      });
    } else if (name === 'Origin') {
      const usa = column.levels.indexOf('USA');
      columns.set(name, {
        kind: 'categorical',
        codes: Int32Array.from([column.levels.indexOf(UNKNOWN_ORIGIN), -1, usa]),
        levels: column.levels,
      });
    } else {
      columns.set(name, column);
    }
  }
  return { rowCount: 3, columns };
}

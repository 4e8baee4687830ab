import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bundledDatasets,
  type DataError,
  featureNames,
  labelVector,
  resolveDataset,
  splitFrame,
} from '../../lambdas/core/data';

/** A bundled dataset, whose contract is always there. */
async function bundled(name: string) {
  const dataset = await resolveDataset(name);
  if (!dataset.contract) throw new Error(`${name} has no contract`);
  return { ...dataset, contract: dataset.contract };
}

describe('bundled iris', () => {
  it('loads 150 valid rows of three classes, 50 each', async () => {
    const iris = await bundled('iris');

    const result = await iris.load();
    const labels = labelVector(result.frame, iris.contract);

    expect(result.counts).toEqual({ input: 150, valid: 150, quarantined: 0 });
    expect(result.unknownColumns).toEqual([]);
    expect(featureNames(iris.contract)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
    ]);
    expect(labels.task === 'classification' && labels.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    const counts = [0, 0, 0];
    if (labels.task === 'classification') for (const c of labels.classIndex) counts[c] = (counts[c] ?? 0) + 1;
    expect(counts).toEqual([50, 50, 50]);
    expect(iris.source).toBe('bundled:iris');
    expect(iris.description).toContain('CC BY 4.0');
  });

  it("holds scikit-learn's values (Fisher's, not UCI's two wrong points)", async () => {
    const frame = await (await resolveDataset('bundled:iris')).loadFrame();
    const column = (name: string) => {
      const c = frame.columns.get(name);
      if (c?.kind !== 'numeric') throw new Error(name);
      return c.values;
    };

    // Row 35 (0-based 34): UCI has 4.9,3.1,1.5,0.1; Fisher and scikit-learn have petal_width 0.2.
    expect(column('petal_width')[34]).toBe(0.2);
    // Row 38 (0-based 37): UCI has sepal_width 3.1, Fisher 3.6.
    expect(column('sepal_width')[37]).toBe(3.6);
    expect(column('sepal_length')[0]).toBe(5.1);
    expect(column('petal_length')[149]).toBe(5.1);
  });
});

describe('bundled seattle-weather', () => {
  it('loads its 1461 days with the date as its time column', async () => {
    const weather = await bundled('seattle-weather');

    const result = await weather.load();
    const date = result.frame.columns.get('date');

    expect(result.counts).toEqual({ input: 1461, valid: 1461, quarantined: 0 });
    expect(weather.contract?.time_column).toBe('date');
    expect(featureNames(weather.contract)).toEqual(['precipitation', 'temp_max', 'temp_min', 'wind']);
    expect(date?.kind === 'numeric' && [date.values[0], date.values[1460]]).toEqual([
      Date.UTC(2012, 0, 1),
      Date.UTC(2015, 11, 31),
    ]);
  });

  it('splits by time: the last 20% of days are 2015-03-14 onwards', async () => {
    const weather = await bundled('seattle-weather');
    const { frame } = await weather.load();

    const split = splitFrame(frame, weather.contract, { method: 'time', testFraction: 0.2 });
    const date = split.test.columns.get('date');

    expect([split.train.rowCount, split.test.rowCount]).toEqual([1168, 293]);
    expect(date?.kind === 'numeric' && date.values[0]).toBe(Date.UTC(2015, 2, 14));
  });

  it('is a byte-for-byte copy of the vega-datasets file', async () => {
    const require = createRequire(import.meta.url);
    // The package's exports map hides package.json; its entry point is build/index.js.
    const packageDir = dirname(dirname(require.resolve('vega-datasets')));
    const weather = await resolveDataset('seattle-weather');

    const ours = await readFile((weather.input as { path: string }).path);
    const theirs = await readFile(join(packageDir, 'data', 'seattle-weather.csv'));

    expect(ours.equals(theirs)).toBe(true);
  });
});

describe('bundled cars', () => {
  it('quarantines the 8 rows without a target, keeps missing Horsepower, and skips Name', async () => {
    const cars = await bundled('cars');

    const result = await cars.load();

    expect(result.counts).toEqual({ input: 406, valid: 398, quarantined: 8 });
    expect(result.quarantined.every((row) => row.reasons[0]?.column === 'Miles_per_Gallon')).toBe(true);
    expect(result.unknownColumns).toEqual(['Name']);
    expect(featureNames(cars.contract)).toEqual([
      'Cylinders',
      'Displacement',
      'Horsepower',
      'Weight_in_lbs',
      'Acceleration',
      'Year',
      'Origin',
    ]);
    const horsepower = result.frame.columns.get('Horsepower');
    expect(horsepower?.kind === 'numeric' && horsepower.values.filter(Number.isNaN).length).toBe(6);
    const origin = result.frame.columns.get('Origin');
    expect(origin?.kind === 'categorical' && origin.levels).toEqual(['Europe', 'Japan', 'USA']);
    const year = result.frame.columns.get('Year');
    expect(year?.kind === 'numeric' && year.values[0]).toBe(Date.UTC(1970, 0, 1));
    expect(cars.description).toContain('vega-datasets');
  });

  it('is a byte-for-byte copy of the vega-datasets file', async () => {
    const require = createRequire(import.meta.url);
    const packageDir = dirname(dirname(require.resolve('vega-datasets')));
    const cars = await resolveDataset('cars');

    const ours = await readFile((cars.input as { path: string }).path);
    const theirs = await readFile(join(packageDir, 'data', 'cars.json'));

    expect(ours.equals(theirs)).toBe(true);
  });
});

describe('resolveDataset', () => {
  it('lists the bundled datasets with source and license', () => {
    expect([...bundledDatasets.keys()]).toEqual(['iris', 'seattle-weather', 'cars']);
    expect(bundledDatasets.get('seattle-weather')?.license).toBe('U.S. Government work (public domain)');
  });

  it('takes a file path, with the input_schema.json beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dataset-'));
    const iris = await resolveDataset('iris');
    await writeFile(join(dir, 'input_schema.json'), JSON.stringify(iris.contract));
    await writeFile(
      join(dir, 'batch.csv'),
      (await readFile((iris.input as { path: string }).path)).subarray(0, 200),
    );

    const dataset = await resolveDataset(join(dir, 'batch.csv'));
    const result = await dataset.load();

    expect(dataset.name).toBe('batch');
    expect(dataset.format).toBe('csv');
    expect(dataset.contract?.target).toBe('species');
    expect(result.counts.input).toBe(result.counts.valid + result.counts.quarantined);
    expect(result.counts.valid).toBeGreaterThan(0);
  });

  it('gives a file without a contract a null contract: validating needs one, loading infers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dataset-'));
    await writeFile(join(dir, 'plain.jsonl'), '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n');

    const dataset = await resolveDataset(join(dir, 'plain.jsonl'));

    expect(dataset.contract).toBeNull();
    await expect(dataset.load()).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'contract' },
    });
    expect((await dataset.loadFrame()).rowCount).toBe(2);
  });

  it('names the bundled datasets when given an unknown name or a missing file', async () => {
    const unknown = (await resolveDataset('irises').catch((e: unknown) => e)) as DataError;
    const missing = (await resolveDataset('/no/such/data.parquet').catch((e: unknown) => e)) as DataError;

    expect(unknown.code).toBe('UNKNOWN_DATASET');
    expect(unknown.message).toContain(
      'unknown dataset "irises": it is not a bundled dataset; use a bundled dataset (iris, seattle-weather, cars)',
    );
    expect(missing.message).toContain('there is no such file');
  });
});

/**
 * `mlops drift compute` as a user runs it: two files of different formats in, one JSON line out;
 * a file that is not there is one line on stderr and exit 2. On the cars fixture (string
 * categories, missing values): `--fail-on-drift` exits 3 on drift, and a run that can compare no
 * feature exits 4 with the reason in one line. No service is needed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDatasetsDir, loadFrame, writeFrameFile } from '../../lambdas/core/data';
import { mlops } from '../support/entry-point';
import { PROJECT_ROOT } from '../support/project-paths';

const irisDir = join(defaultDatasetsDir(), 'iris');
let dir: string;
let reference: string;
let current: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drift-cli-'));
  // Reference: iris as CSV. Current: iris with sepal_length + 1.5 cm, as Parquet.
  reference = join(dir, 'reference.csv');
  const text = await readFile(join(irisDir, 'iris.csv'), 'utf8');
  await writeFile(reference, text);
  const [header, ...rows] = text.trim().split('\n');
  const shifted = rows.map((row) => {
    const cells = row.split(',');
    cells[0] = (Number(cells[0]) + 1.5).toFixed(1);
    return cells.join(',');
  });
  const frame = await loadFrame({ bytes: Buffer.from([header, ...shifted].join('\n')), format: 'csv' });
  current = join(dir, 'current.parquet');
  await writeFrameFile(current, frame);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mlops drift compute', () => {
  it('prints one JSON line with the drift result of a CSV reference against a Parquet window', async () => {
    const report = join(dir, 'report.html');

    const { status, stdout, stderr } = await mlops([
      'drift',
      'compute',
      '--reference',
      reference,
      '--current',
      current,
      '--contract',
      join(irisDir, 'input_schema.json'),
      '--threshold',
      '0.2',
      '--report',
      report,
      '--json',
    ]);

    expect(status, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? '');
    expect(Object.keys(result)).toEqual(
      expect.arrayContaining(['columns', 'share_drifted', 'drift_metric', 'value', 'threshold', 'drifted']),
    );
    expect(result).toMatchObject({
      share_drifted: 0.25,
      drift_metric: 'share_drifted',
      value: 0.25,
      threshold: 0.2,
      drifted: true,
      reference_rows: 150,
      current_rows: 150,
    });
    expect(Object.keys(result.columns)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
    ]);
    expect(result.columns.sepal_length).toMatchObject({ kind: 'numeric', test: 'ks', drifted: true });
    expect(result.columns.sepal_length.ks_pvalue).toBeLessThan(1e-10);
    expect(result.columns.petal_width).toMatchObject({ drifted: false, ks_statistic: 0, psi: 0 });
    expect(await readFile(report, 'utf8')).toContain('<svg');
  });

  it('exits 2 naming the file it cannot read', async () => {
    const missing = join(dir, 'no-such-window.csv');

    const failure = await mlops([
      'drift',
      'compute',
      '--reference',
      reference,
      '--current',
      missing,
      '--json',
    ]);

    expect(failure.status).toBe(2);
    expect(failure.stdout).toBe('');
    expect(failure.stderr.trim()).toBe(`mlops: cannot read the current data ${missing}: no such file`);
  });
});

describe('mlops drift compute on string categoricals with missing values (cars), for CI', () => {
  const cars = join(PROJECT_ROOT, 'test/fixtures/drift-cars');
  const carsReference = join(cars, 'reference.json');
  const carsCurrent = join(cars, 'current.csv');
  const carsContract = join(cars, 'input_schema.json');

  /** stderr without a stack trace: exactly one line. */
  const oneLine = (stderr: string) => {
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    return lines[0];
  };

  it('exits 3 with --fail-on-drift when the window drifted, after printing the result', async () => {
    const { status, stdout, stderr } = await mlops([
      'drift',
      'compute',
      '--reference',
      carsReference,
      '--current',
      carsCurrent,
      '--contract',
      carsContract,
      '--fail-on-drift',
      '--json',
    ]);

    expect(status, stderr).toBe(3);
    expect(oneLine(stderr)).toBe('mlops: drift detected (--fail-on-drift): share_drifted 1 > threshold 0.2');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? '');
    expect(result).toMatchObject({
      drifted: true,
      features_compared: 5,
      reference_rows: 223,
      current_rows: 119,
    });
    expect(result.columns.Origin).toMatchObject({
      kind: 'categorical',
      reference_rows: 212,
      reference_missing: 11,
      current_rows: 114,
      current_missing: 5,
      new_categories: [],
      absent_categories: [],
    });
    expect(result.columns.Horsepower).toMatchObject({
      kind: 'numeric',
      reference_missing: 2,
      current_missing: 4,
    });
  });

  it('exits 0 with --fail-on-drift when nothing drifted, and without the flag when something did', async () => {
    const same = await mlops([
      'drift',
      'compute',
      '--reference',
      carsReference,
      '--current',
      carsReference,
      '--fail-on-drift',
      '--json',
    ]);
    const drifted = await mlops(['drift', 'compute', '--reference', carsReference, '--current', carsCurrent]);

    expect(same.status, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ drifted: false, share_drifted: 0 });
    expect(drifted.status, drifted.stderr).toBe(0);
    // The table shows each side's missing share and the verdict.
    expect(drifted.stdout).toMatch(/^Origin\s+feature\s+categorical\s+DRIFT\s.*4\.9% \/ 4\.2%/m);
    expect(drifted.stdout).toMatch(/^Horsepower\s+feature\s+numeric\s+DRIFT\s.*0\.9% \/ 3\.4%/m);
    expect(drifted.stdout).toContain('Drift detected: share_drifted 1 > threshold 0.2');
  });

  it('exits 4 naming the columns when the current file shares none with the reference', async () => {
    const other = join(dir, 'other-columns.csv');
    await writeFile(other, 'make,price\nford,1200\nfiat,900\n');

    const { status, stdout, stderr } = await mlops([
      'drift',
      'compute',
      '--reference',
      carsReference,
      '--current',
      other,
      '--json',
    ]);

    expect(status).toBe(4);
    expect(oneLine(stderr)).toBe(
      'mlops: no feature could be compared: the current data has none of the 6 feature columns ' +
        '(Origin, Cylinders, Horsepower and 3 more); it has make, price',
    );
    expect(JSON.parse(stdout)).toMatchObject({ value: null, features_compared: 0, drifted: false });
  });

  it('exits 4 when the window is empty or every value is missing', async () => {
    const empty = join(dir, 'empty-window.csv');
    await writeFile(empty, 'Origin,Cylinders,Horsepower,Weight_in_lbs,Acceleration\n');
    const blank = join(dir, 'blank-window.csv');
    await writeFile(blank, 'Origin,Horsepower\n,\n,NA\n');

    const emptyRun = await mlops([
      'drift',
      'compute',
      '--reference',
      carsReference,
      '--current',
      empty,
      '--contract',
      carsContract,
    ]);
    const blankRun = await mlops([
      'drift',
      'compute',
      '--reference',
      carsReference,
      '--current',
      blank,
      '--columns',
      'Origin,Horsepower',
    ]);

    expect(emptyRun.status).toBe(4);
    expect(oneLine(emptyRun.stderr)).toBe(
      'mlops: no feature could be compared: the current window is empty (0 rows)',
    );
    expect(emptyRun.stdout).toContain('Drift unknown');
    expect(blankRun.status).toBe(4);
    expect(oneLine(blankRun.stderr)).toBe(
      'mlops: no feature could be compared (Origin: no statistics: every current window value is missing (2 rows); ' +
        'Horsepower: no statistics: every current window value is missing (2 rows))',
    );
  });

  it('documents the exit codes in --help', async () => {
    const { status, stdout } = await mlops(['drift', 'compute', '--help']);

    expect(status).toBe(0);
    expect(stdout).toContain('--fail-on-drift');
    for (const code of ['0', '1', '2', '3', '4']) expect(stdout).toMatch(new RegExp(`^  ${code}  \\S`, 'm'));
    expect(stdout).toMatch(/^ {2}3 {2}--fail-on-drift and dataset drift detected/m);
    expect(stdout).toMatch(/^ {2}4 {2}nothing measured/m);
  });
});

/**
 * `mlops drift compute` as a user runs it: two files of different formats in, one JSON line out;
 * a file that is not there is one line on stderr and exit 2. No service is needed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDatasetsDir, loadFrame, writeFrameFile } from '../../lambdas/core/data';
import { mlops } from '../support/entry-point';

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

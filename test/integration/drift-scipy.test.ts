/**
 * Our drift statistics against scipy's, computed by the project venv's scipy on the same data:
 * ks_2samp (exact and asymptotic regimes, ties, unequal sizes), wasserstein_distance,
 * jensenshannon(base=2), chisquare with Evidently's expected counts, and PSI over
 * reference-quantile bins with numpy.quantile. And on files: the cars fixture's string categories
 * and missing values as the monitoring path loads them, against the cells Python's json and csv
 * modules read from the same files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContractFile } from '../../lambdas/core/data';
import { categoricalColumn } from '../../lambdas/core/data/frame';
import {
  type CategoricalColumnDrift,
  categoricalColumnDrift,
  isColumnError,
  type NumericColumnDrift,
  numericColumnDrift,
} from '../../lambdas/core/drift';
import { measureDrift, readMonitoringFrames } from '../../lambdas/core/monitoring';
import { categoryCodes, normalSample } from '../support/seeded-samples';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PYTHON = path.join(ROOT, 'localstack/.venv/bin/python');
const VENV_READY = path.join(ROOT, 'localstack/.venv/.requirements.sha256');

const SCRIPT = `
import csv, json, sys, warnings
from pathlib import Path
import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

def num(x):
    x = float(x)
    return 'Infinity' if x == float('inf') else x

def fill_empty(shares):
    nonzero = shares[shares != 0]
    fill = nonzero.min() / 10**6 if nonzero.min() <= 0.0001 else 0.0001
    out = shares.copy(); out[out == 0] = fill
    return out

def psi(ref, cur, bins=10):
    edges = np.unique(np.quantile(ref, [k / bins for k in range(1, bins)]))
    r = np.bincount(np.searchsorted(edges, ref, side='right'), minlength=len(edges) + 1) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side='right'), minlength=len(edges) + 1) / len(cur)
    r, c = fill_empty(r), fill_empty(c)
    return float(np.sum((r - c) * np.log(r / c)))

def categorical(ref, cur):
    # Evidently 0.7 chisquare / jensenshannon stattests: keys = union of non-null values.
    keys = sorted(set(ref) | set(cur))
    rc = np.array([ref.count(k) for k in keys], dtype=float)
    cc = np.array([cur.count(k) for k in keys], dtype=float)
    with warnings.catch_warnings(), np.errstate(divide='ignore', invalid='ignore'):
        warnings.simplefilter('ignore')
        chi = stats.chisquare(cc, rc * (len(cur) / len(ref)))
    return {'jensenshannon': float(jensenshannon(rc / rc.sum(), cc / cc.sum(), base=2)),
            'chi2_statistic': num(chi.statistic), 'chi2_pvalue': float(chi.pvalue)}

def read_column(path, column):
    # The file as Python reads it: JSON records (null = missing) or CSV (empty cell = missing).
    if path.endswith('.json'):
        cells = [row.get(column) for row in json.loads(Path(path).read_text())]
    else:
        with open(path, newline='') as f:
            cells = [row[column] for row in csv.DictReader(f)]
    return [None if cell is None or cell == '' else cell for cell in cells]

def numeric(ref, cur):
    ks = stats.ks_2samp(ref, cur)
    wd = stats.wasserstein_distance(ref, cur)
    result = {'ks_statistic': float(ks.statistic), 'ks_pvalue': float(ks.pvalue), 'wasserstein': float(wd),
              'wasserstein_normed': float(wd / max(np.std(ref), 0.001)), 'psi': psi(ref, cur)}
    if len(np.unique(np.concatenate([ref, cur]))) <= 5:
        result.update(categorical(ref.tolist(), cur.tolist()))
    return result

data = Path(sys.argv[1])
manifest = json.loads((data / 'manifest.json').read_text())
out = {}
for case in manifest['numeric']:
    ref = np.fromfile(data / (case['name'] + '.ref.f64'), dtype='<f8')
    cur = np.fromfile(data / (case['name'] + '.cur.f64'), dtype='<f8')
    out[case['name']] = numeric(ref[np.isfinite(ref)], cur[np.isfinite(cur)])
for case in manifest['files']:
    ref = read_column(case['reference'], case['column'])
    cur = read_column(case['current'], case['column'])
    counts = {'reference_missing': sum(v is None for v in ref), 'current_missing': sum(v is None for v in cur)}
    ref = [v for v in ref if v is not None]
    cur = [v for v in cur if v is not None]
    if case['kind'] == 'categorical':
        result = categorical([str(v) for v in ref], [str(v) for v in cur])
    else:
        result = numeric(np.array(ref, dtype=float), np.array(cur, dtype=float))
    out[case['name']] = {**result, **counts, 'reference_rows': len(ref), 'current_rows': len(cur)}
for case in manifest['categorical']:
    ref = [v for v in case['reference'] if v is not None]
    cur = [v for v in case['current'] if v is not None]
    out[case['name']] = categorical(ref, cur)
print(json.dumps(out))
`;

function normals(n: number, mean: number, seed: number, transform = (x: number) => x): Float64Array {
  return normalSample(n, mean, seed).map(transform);
}

interface NumericCase {
  readonly name: string;
  readonly reference: Float64Array;
  readonly current: Float64Array;
  /** The p-value regime scipy's method='auto' picks for these sizes. */
  readonly method: 'exact' | 'asymp';
}

const withGaps = (values: Float64Array, every: number) =>
  values.map((v, i) => (i % every === 0 ? Number.NaN : v));

const NUMERIC: readonly NumericCase[] = [
  { name: 'exact_tiny', reference: normals(8, 0, 1), current: normals(11, 0.8, 2), method: 'exact' },
  { name: 'exact_equal_sizes', reference: normals(50, 0, 3), current: normals(50, 0.3, 4), method: 'exact' },
  {
    name: 'exact_ties',
    reference: normals(300, 0, 5, (x) => Math.round(3 * x)),
    current: normals(700, 0.2, 6, (x) => Math.round(3 * x)),
    method: 'exact',
  },
  {
    name: 'exact_at_limit',
    reference: normals(10_000, 0, 7),
    current: normals(9_999, 0.03, 8),
    method: 'exact',
  },
  {
    name: 'asymp_half_even',
    reference: normals(10_001, 0, 9),
    current: normals(10_001, 0.02, 10),
    method: 'asymp',
  },
  {
    name: 'asymp_unequal',
    reference: normals(20_000, 0, 11),
    current: normals(15_000, 0.15, 12),
    method: 'asymp',
  },
  {
    name: 'asymp_tiny_current',
    reference: normals(20_000, 0, 13),
    current: normals(7, 0.5, 14),
    method: 'asymp',
  },
  {
    name: 'asymp_small_current',
    reference: normals(12_000, 0, 15),
    current: normals(150, 0.15, 16),
    method: 'asymp',
  },
  {
    name: 'asymp_large_ties',
    reference: normals(200_000, 0, 17, (x) => Math.round(20 * x) / 20),
    current: normals(300_000, 0.006, 18, (x) => Math.round(20 * x) / 20),
    method: 'asymp',
  },
  {
    name: 'asymp_large_moderate_p',
    reference: normals(200_000, 0, 19),
    current: normals(300_000, 0.012, 20),
    method: 'asymp',
  },
  {
    name: 'missing_values',
    reference: withGaps(normals(3000, 0, 21), 7),
    current: withGaps(normals(2500, 0.3, 22), 5),
    method: 'exact',
  },
  {
    name: 'low_cardinality',
    reference: normals(5000, 0, 23, (x) => Math.min(3, Math.max(0, Math.round(x + 1.5)))),
    current: normals(4000, 0.2, 24, (x) => Math.min(3, Math.max(0, Math.round(x + 1.5)))),
    method: 'exact',
  },
];

interface CategoricalCase {
  readonly name: string;
  readonly levels: readonly string[];
  readonly reference: Int32Array;
  readonly current: Int32Array;
}

const LEVELS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
const CATEGORICAL: readonly CategoricalCase[] = [
  {
    name: 'same_mix',
    levels: LEVELS,
    reference: categoryCodes(4000, [5, 4, 3, 2, 1, 1], 31),
    current: categoryCodes(3000, [5, 4, 3, 2, 1, 1], 32),
  },
  {
    name: 'shifted_mix',
    levels: LEVELS,
    reference: categoryCodes(800, [5, 4, 3, 2, 1, 1], 33, 9),
    current: categoryCodes(600, [2, 4, 3, 2, 3, 1], 34, 4),
  },
  {
    name: 'new_category',
    levels: LEVELS,
    reference: categoryCodes(1500, [3, 3, 3, 3, 0, 0], 35),
    current: categoryCodes(1500, [3, 3, 3, 3, 1, 0], 36),
  },
];

/**
 * A column of two files (the cars fixture and windows derived from it, with string categories
 * and missing values) as the monitoring path loads them, against scipy on the cells Python reads
 * from the same files. `current` names a file in the test's directory or the fixture's.
 */
interface FileCase {
  readonly name: string;
  readonly column: string;
  readonly kind: 'categorical' | 'numeric';
  readonly current: string;
}

const CARS = path.join(ROOT, 'test/fixtures/drift-cars');
const FILE_CASES: readonly FileCase[] = [
  { name: 'cars_origin', column: 'Origin', kind: 'categorical', current: 'current.csv' },
  { name: 'cars_origin_renamed', column: 'Origin', kind: 'categorical', current: 'renamed.csv' },
  { name: 'cars_origin_no_europe', column: 'Origin', kind: 'categorical', current: 'no-europe.csv' },
  { name: 'cars_horsepower', column: 'Horsepower', kind: 'numeric', current: 'current.csv' },
  { name: 'cars_cylinders', column: 'Cylinders', kind: 'numeric', current: 'no-europe.csv' },
];
const currentPath = (c: FileCase) =>
  c.current === 'current.csv' ? path.join(CARS, c.current) : path.join(dir, c.current);

type Expected = Record<string, number | 'Infinity'>;
let expected: Record<string, Expected> = {};
let dir = '';

async function waitForVenv(): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (!existsSync(VENV_READY)) {
    if (Date.now() > deadline) throw new Error(`the project venv is not ready: ${VENV_READY} does not exist`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

beforeAll(async () => {
  await waitForVenv();
  dir = mkdtempSync(path.join(os.tmpdir(), 'drift-scipy-'));
  for (const c of NUMERIC) {
    writeFileSync(path.join(dir, `${c.name}.ref.f64`), new Uint8Array(c.reference.buffer));
    writeFileSync(path.join(dir, `${c.name}.cur.f64`), new Uint8Array(c.current.buffer));
  }
  // Windows derived from the fixture: Europe renamed Germany (one category gone, one new), and
  // no European car at all (the window's category codes then differ from the reference's).
  const currentCsv = readFileSync(path.join(CARS, 'current.csv'), 'utf8');
  writeFileSync(path.join(dir, 'renamed.csv'), currentCsv.replaceAll('\nEurope,', '\nGermany,'));
  writeFileSync(
    path.join(dir, 'no-europe.csv'),
    currentCsv
      .split('\n')
      .filter((line) => !line.startsWith('Europe,'))
      .join('\n'),
  );
  const asNames = (codes: Int32Array, levels: readonly string[]) =>
    Array.from(codes, (code) => (code < 0 ? null : (levels[code] as string)));
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      numeric: NUMERIC.map((c) => ({ name: c.name })),
      files: FILE_CASES.map((c) => ({
        name: c.name,
        column: c.column,
        kind: c.kind,
        reference: path.join(CARS, 'reference.json'),
        current: currentPath(c),
      })),
      categorical: CATEGORICAL.map((c) => ({
        name: c.name,
        reference: asNames(c.reference, c.levels),
        current: asNames(c.current, c.levels),
      })),
    }),
  );
  writeFileSync(path.join(dir, 'scipy_reference.py'), SCRIPT);
  const run = spawnSync(PYTHON, [path.join(dir, 'scipy_reference.py'), dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  if (run.status !== 0) throw new Error(`scipy reference failed (${run.status}): ${run.stderr}`);
  expected = JSON.parse(run.stdout) as Record<string, Expected>;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function value(expectation: Expected, key: string): number {
  const v = expectation[key];
  if (v === undefined) throw new Error(`scipy gave no ${key}`);
  return v === 'Infinity' ? Number.POSITIVE_INFINITY : v;
}

/** |ours - scipy| ≤ tolerance, or (for large values) relative difference ≤ tolerance. */
function expectClose(ours: number, theirs: number, tolerance: number, label: string): void {
  if (!Number.isFinite(theirs)) {
    expect(ours, label).toBe(theirs);
    return;
  }
  const diff = Math.abs(ours - theirs);
  expect(
    diff <= tolerance || diff <= tolerance * Math.abs(theirs),
    `${label}: ours ${ours}, scipy ${theirs}`,
  ).toBe(true);
}

describe('drift statistics agree with scipy', () => {
  describe.each(NUMERIC)('numeric: $name', (c) => {
    const ours = () => {
      const result = numericColumnDrift(c.reference, c.current, { role: 'feature' });
      if ('error' in result) throw new Error(result.error);
      return result as NumericColumnDrift;
    };

    it(`KS statistic within 1e-9 and p-value (${c.method}) within 1e-6`, () => {
      const result = ours();
      const theirs = expected[c.name] as Expected;

      expect(result.ks_method).toBe(c.method);
      expect(Math.abs(result.ks_statistic - value(theirs, 'ks_statistic'))).toBeLessThanOrEqual(1e-9);
      expectClose(result.ks_pvalue, value(theirs, 'ks_pvalue'), 1e-6, 'ks_pvalue');
      // Tighter: p-values agree relatively too, down to scipy's own subnormal range.
      if (value(theirs, 'ks_pvalue') > 1e-300) {
        expect(Math.abs(result.ks_pvalue / value(theirs, 'ks_pvalue') - 1)).toBeLessThan(1e-6);
      }
    });

    it('Wasserstein, normed Wasserstein and PSI within 1e-6', () => {
      const result = ours();
      const theirs = expected[c.name] as Expected;

      expectClose(result.wasserstein, value(theirs, 'wasserstein'), 1e-6, 'wasserstein');
      expectClose(result.wasserstein_normed, value(theirs, 'wasserstein_normed'), 1e-6, 'wasserstein_normed');
      expectClose(result.psi, value(theirs, 'psi'), 1e-6, 'psi');
      if (c.name === 'low_cardinality') {
        expect(result.test).toBe('jensenshannon');
        expectClose(result.jensenshannon as number, value(theirs, 'jensenshannon'), 1e-6, 'jensenshannon');
        expectClose(result.chi2_statistic as number, value(theirs, 'chi2_statistic'), 1e-6, 'chi2_statistic');
        expectClose(result.chi2_pvalue as number, value(theirs, 'chi2_pvalue'), 1e-6, 'chi2_pvalue');
      }
    });
  });

  describe.each(CATEGORICAL)('categorical: $name', (c) => {
    it('Jensen–Shannon (base 2) and chi-square within 1e-6', () => {
      const result = categoricalColumnDrift(
        categoricalColumn(c.reference, c.levels),
        categoricalColumn(c.current, c.levels),
        { role: 'feature' },
      ) as CategoricalColumnDrift;
      const theirs = expected[c.name] as Expected;

      expectClose(result.jensenshannon, value(theirs, 'jensenshannon'), 1e-6, 'jensenshannon');
      expectClose(result.chi2_statistic, value(theirs, 'chi2_statistic'), 1e-6, 'chi2_statistic');
      expectClose(result.chi2_pvalue, value(theirs, 'chi2_pvalue'), 1e-6, 'chi2_pvalue');
    });
  });

  describe.each(FILE_CASES)('files: $name ($column of reference.json against $current)', (c) => {
    it('matches scipy on the cells Python reads, and counts the same missing values', async () => {
      const contract = await readContractFile(path.join(CARS, 'input_schema.json'));
      const { frames } = await readMonitoringFrames({
        reference: path.join(CARS, 'reference.json'),
        current: currentPath(c),
        contract,
      });
      const column = measureDrift(frames).result.columns[c.column];
      if (!column || isColumnError(column)) throw new Error(`${c.column} was not compared`);
      const theirs = expected[c.name] as Expected;

      expect(column.kind).toBe(c.kind);
      for (const key of ['reference_rows', 'reference_missing', 'current_rows', 'current_missing'] as const) {
        expect(column[key], key).toBe(value(theirs, key));
      }
      const keys =
        column.kind === 'numeric'
          ? ['ks_statistic', 'ks_pvalue', 'wasserstein', 'wasserstein_normed', 'psi']
          : ['jensenshannon', 'chi2_statistic', 'chi2_pvalue'];
      if (column.kind === 'numeric' && column.jensenshannon !== undefined) {
        keys.push('jensenshannon', 'chi2_statistic', 'chi2_pvalue');
      }
      const ours = column as unknown as Record<string, number>;
      for (const key of keys) expectClose(ours[key] as number, value(theirs, key), 1e-6, key);
    });
  });

  it('covers string categories that are new, absent and differently coded (the file cases are not all alike)', () => {
    const pvalue = (name: string) => value(expected[name] as Expected, 'chi2_pvalue');

    expect(value(expected.cars_origin_renamed as Expected, 'chi2_statistic')).toBe(Number.POSITIVE_INFINITY);
    expect(pvalue('cars_origin')).toBeGreaterThan(0);
    expect(pvalue('cars_origin')).toBeLessThan(1e-3);
    expect(Number.isFinite(value(expected.cars_origin_no_europe as Expected, 'chi2_statistic'))).toBe(true);
    expect(value(expected.cars_horsepower as Expected, 'current_missing')).toBe(4);
  });

  it('covers tiny, moderate and vanishing p-values (the comparison is not all p = 0 or 1)', () => {
    const pvalues = NUMERIC.map((c) => value(expected[c.name] as Expected, 'ks_pvalue'));

    expect(pvalues.some((p) => p > 0.05 && p < 1)).toBe(true);
    expect(pvalues.some((p) => p > 1e-12 && p < 0.05)).toBe(true);
    expect(pvalues.some((p) => p > 0 && p < 1e-12)).toBe(true);
  });
});

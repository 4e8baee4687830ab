/**
 * The demo's data, all derived from the bundled iris CSV so the run needs nothing downloaded:
 * the landing file with broken rows, the shifted training set, and the scoring batches; plus the
 * candidates it trains and the flowers it sends to the predict API (`npm run local:e2e` uses the same).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CandidateSpec } from '../../lambdas/steps/step-io';
import { ROOT } from '../services/services';

const IRIS_DIR = join(ROOT, 'lambdas', 'core', 'datasets', 'iris');

/** Appended after the 150 iris rows (rows 151-153): a non-number, an out-of-range width, an unknown species. */
export const BROKEN_ROWS = [
  { row: 'abc,3.0,1.4,0.2,setosa', why: 'sepal_length is not a number' },
  { row: '5.0,3.0,1.4,99,setosa', why: 'petal_width 99 cm is above the 30 cm maximum' },
  { row: '5.0,3.0,1.4,0.2,tulip', why: 'species "tulip" is not an iris species' },
] as const;

/**
 * The second training set's shift: every sepal width +0.5 cm, as if a new batch of flowers had
 * been measured with a caliper that reads half a centimetre high.
 */
export const SEPAL_WIDTH_SHIFT_CM = 0.5;

/** The drifted monitoring batch: petal lengths +3 cm on top of the shifted set, one feature of four. */
export const PETAL_LENGTH_DRIFT_CM = 3;

export interface IrisFiles {
  readonly csv: string;
  readonly schema: string;
}

export async function readIris(): Promise<IrisFiles> {
  const [csv, schema] = await Promise.all([
    readFile(join(IRIS_DIR, 'iris.csv'), 'utf8'),
    readFile(join(IRIS_DIR, 'input_schema.json'), 'utf8'),
  ]);
  return { csv: csv.trimEnd(), schema };
}

export function withBrokenRows(csv: string): string {
  return `${csv}\n${BROKEN_ROWS.map((b) => b.row).join('\n')}\n`;
}

/** Adds `cm` to one numeric column of a CSV (by header name); other cells are kept as they are. */
export function shiftColumn(csv: string, column: string, cm: number): string {
  const [header = '', ...rows] = csv.trimEnd().split('\n');
  const at = header.split(',').indexOf(column);
  if (at < 0) throw new Error(`the iris CSV has no column ${column}`);
  const shifted = rows.map((row) => {
    const cells = row.split(',');
    cells[at] = String(Math.round((Number(cells[at]) + cm) * 100) / 100);
    return cells.join(',');
  });
  return [header, ...shifted].join('\n');
}

/** The features only (no species): what a client sends for scoring. */
export function withoutTarget(csv: string): string {
  return csv
    .trimEnd()
    .split('\n')
    .map((line) => line.split(',').slice(0, 4).join(','))
    .join('\n');
}

/**
 * Small and quick, but three families so the selection has something to choose between; named
 * after their family, as the default candidates of `mlops train` and `mlops run train` are.
 */
export const CANDIDATES: readonly CandidateSpec[] = [
  { name: 'logistic_regression', family: 'logistic_regression' },
  { name: 'random_forest', family: 'random_forest', params: { n_estimators: 10, max_depth: 4 } },
  { name: 'gradient_boosting', family: 'gradient_boosting', params: { max_iter: 30, max_depth: 2 } },
];

/** Two flowers, a setosa and a virginica, for the predict API. */
export const SAMPLE = [
  { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
  { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
];

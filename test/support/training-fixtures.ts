/** Data sets for the training tests: iris from disk, and seeded synthetic regression problems. */
import { existsSync, globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SeededRandom } from '../../lambdas/core/seeded-random';
import type { ClassificationData, RegressionData } from '../../lambdas/core/training';

import { PROJECT_ROOT as ROOT } from './project-paths';

/**
 * Iris: the bundled dataset (header of names, species as text) or, where it is not there,
 * scikit-learn's copy (first line "150,4,setosa,versicolor,virginica", class index last).
 */
export function loadIris(): ClassificationData {
  const bundled = path.join(ROOT, 'lambdas/core/datasets/iris/iris.csv');
  const file = existsSync(bundled)
    ? bundled
    : globSync(
        path.join(ROOT, 'localstack/.venv/lib/python3*/site-packages/sklearn/datasets/data/iris.csv'),
      )[0];
  if (!file) throw new Error('no iris.csv: neither the bundled dataset nor scikit-learn is installed');
  const [header = '', ...body] = readFileSync(file, 'utf8').trim().split('\n');
  const headerCells = header.split(',');
  const countHeader = /^\d+$/.test(headerCells[0] ?? '');
  const features = countHeader
    ? ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
    : headerCells.slice(0, 4);
  const rows = body.map((line) => line.split(','));
  const classes = countHeader
    ? headerCells.slice(2)
    : [...new Set(rows.map((cells) => cells[4] as string))].sort();
  const x = new Float64Array(rows.length * 4);
  rows.forEach((cells, i) => {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = Number(cells[j]);
  });
  const y = Int32Array.from(rows, (cells) =>
    countHeader ? Number(cells[4]) : classes.indexOf(cells[4] as string),
  );
  return { task: 'classification', x, rows: rows.length, cols: 4, features, y, classes };
}

/** y = 3 + Σ β_j x_j + N(0, noise²), x ~ N(0, 1) scaled per column so standardisation matters. */
export function linearRegressionData(
  rows: number,
  beta: readonly number[],
  noise: number,
  seed: number,
): RegressionData {
  const random = new SeededRandom(seed);
  const cols = beta.length;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let target = 3;
    for (let j = 0; j < cols; j++) {
      const value = (j + 1) * random.normal() + 10 * j;
      x[i * cols + j] = value;
      target += (beta[j] as number) * value;
    }
    y[i] = target + noise * random.normal();
  }
  return { task: 'regression', x, rows, cols, features: beta.map((_, j) => `x${j}`), y };
}

/** Friedman #1: 10 U(0,1) features, y = 10 sin(π x0 x1) + 20 (x2 − ½)² + 10 x3 + 5 x4 + N(0, 1). */
export function friedmanData(rows: number, seed: number): RegressionData {
  const random = new SeededRandom(seed);
  const cols = 10;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) x[i * cols + j] = random.next();
    const at = (j: number) => x[i * cols + j] as number;
    y[i] =
      10 * Math.sin(Math.PI * at(0) * at(1)) +
      20 * (at(2) - 0.5) ** 2 +
      10 * at(3) +
      5 * at(4) +
      random.normal();
  }
  return { task: 'regression', x, rows, cols, features: Array.from({ length: cols }, (_, j) => `x${j}`), y };
}

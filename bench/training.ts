/**
 * Training benchmark: our trainers (lambdas/core/training) vs the scikit-learn estimators they
 * are modelled on, in one run, on the same splits, with the same hyper-parameters.
 *
 *   npx tsx bench/training.ts
 *   TRAINING_BENCH_ROWS=300000 npx tsx bench/training.ts   # a larger large set
 *
 * Datasets: iris (classification) and diabetes (regression) from scikit-learn's bundled files;
 * cars (the bundled vega-datasets cars: a string category and missing values), as regression of
 * Miles_per_Gallon and, under the test contract test/fixtures/cars-cylinders.input_schema.json,
 * classification of Cylinders — raw columns on both sides: ours preprocesses them (one-hot,
 * mean imputation fitted on the training rows), scikit-learn runs the equivalent ColumnTransformer
 * (OneHotEncoder(handle_unknown='ignore') + SimpleImputer(mean), + StandardScaler for linear);
 * Friedman #1 regression, 20 000 rows; and the large set, TRAINING_BENCH_ROWS rows (default
 * 150 000, so 105 000 training rows) of a 10-feature 3-class problem with non-linear class
 * scores. Every family runs its default candidate; TRAINING_BENCH_FOREST_TREES (default 100, the
 * candidate's own) sets the large set's forest size on both sides, as scikit-learn's exact
 * splitter takes 0.3–3 s a tree there depending on the machine's load.
 *
 * Each set is split 70/30 with `holdoutSplit` (seed 1) and written as raw float64 files to a
 * temporary folder; both sides read those files. scikit-learn runs in localstack/.venv
 * (bench/training_sklearn.py), on one thread unless SKLEARN_THREADS says otherwise.
 * Writes bench/results/training.json and a line in bench/results/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  categoryAt,
  type DataContract,
  type Frame,
  readContractFile,
  resolveDataset,
  splitFrame,
} from '../lambdas/core/data';
import { categoryLevelsOf, toTrainingData } from '../lambdas/core/lifecycle/trainer-input';
import { SeededRandom } from '../lambdas/core/seeded-random';
import {
  type CandidateSpec,
  type ClassificationData,
  defaultCandidates,
  evaluate,
  holdoutSplit,
  type ModelMetrics,
  parseCandidateSpec,
  type RegressionData,
  type TrainingData,
  trainCandidate,
} from '../lambdas/core/training';
import { friedmanData } from '../test/support/training-fixtures';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const PYTHON = path.join(ROOT, 'localstack', '.venv', 'bin', 'python');
const SPLIT_SEED = 1;
const TRAIN_SEED = 42;
/**
 * Ours trains on one thread, so scikit-learn does too by default (its HistGradientBoosting uses
 * OpenMP, which on a loaded shared machine slows down rather than speeds up). Set
 * SKLEARN_THREADS to compare with more.
 */
const SKLEARN_THREADS = process.env.SKLEARN_THREADS ?? '1';
const FRIEDMAN_ROWS = 20_000;

// ---------------------------------------------------------------- data

function sklearnDataFile(name: string): string {
  const [file] = globSync(
    path.join(ROOT, 'localstack/.venv/lib/python3*/site-packages/sklearn/datasets/data', name),
  );
  if (!file) throw new Error(`scikit-learn's ${name} is missing: run npm run setup (localstack/.venv)`);
  return file;
}

function iris(): ClassificationData {
  const lines = readFileSync(path.join(ROOT, 'lambdas/core/datasets/iris/iris.csv'), 'utf8')
    .trim()
    .split('\n');
  const header = (lines[0] as string).split(',');
  const body = lines.slice(1).map((line) => line.split(','));
  const classes = [...new Set(body.map((cells) => cells[4] as string))].sort();
  const x = new Float64Array(body.length * 4);
  body.forEach((cells, i) => {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = Number(cells[j]);
  });
  const y = Int32Array.from(body, (cells) => classes.indexOf(cells[4] as string));
  return { task: 'classification', x, rows: body.length, cols: 4, features: header.slice(0, 4), y, classes };
}

function diabetes(): RegressionData {
  const parse = (file: string) =>
    gunzipSync(readFileSync(sklearnDataFile(file)))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number));
  const features = parse('diabetes_data_raw.csv.gz');
  const target = parse('diabetes_target.csv.gz');
  const cols = (features[0] as number[]).length;
  return {
    task: 'regression',
    x: Float64Array.from(features.flat()),
    rows: features.length,
    cols,
    features: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'].slice(0, cols),
    y: Float64Array.from(target, (row) => row[0] as number),
  };
}

const columnNames = (cols: number) => Array.from({ length: cols }, (_, j) => `x${j}`);

/**
 * Ten standard-normal features, three classes by the largest of three noisy scores, two of them
 * non-linear (a square, a product, a sine): a linear model cannot reach what trees can.
 */
function syntheticClassification(rows: number): ClassificationData {
  const random = new SeededRandom(20240601);
  const cols = 10;
  const x = new Float64Array(rows * cols);
  const y = new Int32Array(rows);
  const v = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      v[j] = random.normal();
      x[i * cols + j] = v[j] as number;
    }
    const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0] = v;
    const scores = [a + 0.5 * b * b - c * d, Math.sin(2 * e) + f - 0.5 * a, 0.8 * g - 0.3];
    // Gumbel noise: the argmax is then a draw from the softmax of the scores (scaled by 0.5).
    const noisy = scores.map((score) => score - 0.5 * Math.log(-Math.log(1 - random.next())));
    y[i] = noisy.indexOf(Math.max(...noisy));
  }
  return { task: 'classification', x, rows, cols, features: columnNames(cols), y, classes: ['a', 'b', 'c'] };
}

/** Friedman #1 (Friedman 1991; scikit-learn's make_friedman1): ten U(0,1) features, five used, N(0,1) noise. */
const friedman1 = (rows: number): RegressionData => friedmanData(rows, 19910301);

// ---------------------------------------------------------------- split files

interface DatasetEntry {
  readonly name: string;
  readonly task: TrainingData['task'];
  readonly rows: number;
  readonly cols: number;
  readonly features: readonly string[];
  readonly classes?: readonly string[];
  readonly candidates: readonly CandidateSpec[];
  /** Raw columns (cars): scikit-learn reads train.json / test.json and preprocesses them itself. */
  readonly raw?: { readonly numeric: readonly string[]; readonly categorical: readonly string[] };
}

/** The in-memory splits of the raw-column datasets (ours), by dataset name. */
const rawSplits = new Map<string, { train: TrainingData; test: TrainingData }>();

/**
 * A bundled dataset with raw columns, split 70/30 (seeded random, stratified for classification,
 * the pipeline's split); both sides get the same rows: ours as frames, scikit-learn as JSON columns
 * (null for a missing value).
 */
async function writeRawSplit(dir: string, name: string, contractFile?: string): Promise<DatasetEntry> {
  const contract: DataContract | undefined = contractFile ? await readContractFile(contractFile) : undefined;
  const cars = await resolveDataset('cars', contract ? { contract } : {});
  if (!cars.contract) throw new Error('cars has no contract');
  const { frame } = await cars.load();
  const split = splitFrame(frame, cars.contract, { method: 'random', seed: SPLIT_SEED, testFraction: 0.3 });
  const levels = categoryLevelsOf(frame);
  const whole = toTrainingData(frame, cars.contract, levels);
  const classes = whole.task === 'classification' ? whole.classes : undefined;
  const train = toTrainingData(split.train, cars.contract, levels, classes);
  const test = toTrainingData(split.test, cars.contract, levels, classes);
  rawSplits.set(name, { train, test });
  const inputs = train.inputs ?? [];
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  for (const [part, data] of [
    ['train', train],
    ['test', test],
  ] as const) {
    const raw = data.raw as Frame;
    writeFileSync(
      path.join(folder, `${part}.json`),
      JSON.stringify({
        columns: Object.fromEntries(inputs.map((input) => [input.name, columnValues(raw, input.name)])),
        y: Array.from(data.y),
      }),
    );
  }
  return {
    name,
    task: train.task,
    rows: train.rows + test.rows,
    cols: inputs.length,
    features: inputs.map((input) => input.name),
    ...(train.task === 'classification' ? { classes: train.classes } : {}),
    candidates: defaultCandidates(train.task),
    raw: {
      numeric: inputs.filter((input) => input.kind === 'numeric').map((input) => input.name),
      categorical: inputs.filter((input) => input.kind === 'category').map((input) => input.name),
    },
  };
}

function columnValues(frame: Frame, name: string): (number | string | null)[] {
  const column = frame.columns.get(name);
  if (!column) throw new Error(`no column ${name}`);
  if (column.kind === 'categorical')
    return Array.from({ length: frame.rowCount }, (_, i) => categoryAt(column, i));
  return Array.from(column.values, (value) => (Number.isNaN(value) ? null : value));
}

function writeFloat64(file: string, values: ArrayLike<number>): void {
  const buffer = Float64Array.from(values);
  writeFileSync(file, new Uint8Array(buffer.buffer));
}

function readFloat64(file: string): Float64Array {
  const bytes = readFileSync(file);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function writeSplit(
  dir: string,
  name: string,
  data: TrainingData,
  candidates: readonly CandidateSpec[] = defaultCandidates(data.task),
): DatasetEntry {
  const { train, test } = holdoutSplit(data, 0.3, SPLIT_SEED);
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFloat64(path.join(folder, 'train_x.f64'), train.x);
  writeFloat64(path.join(folder, 'train_y.f64'), train.y);
  writeFloat64(path.join(folder, 'test_x.f64'), test.x);
  writeFloat64(path.join(folder, 'test_y.f64'), test.y);
  return {
    name,
    task: data.task,
    rows: data.rows,
    cols: data.cols,
    features: data.features,
    ...(data.task === 'classification' ? { classes: data.classes } : {}),
    candidates,
  };
}

/** Reads a split back from the files scikit-learn reads, so both sides train on the same bytes. */
function readSplit(dir: string, entry: DatasetEntry, part: 'train' | 'test'): TrainingData {
  const folder = path.join(dir, entry.name);
  const x = readFloat64(path.join(folder, `${part}_x.f64`));
  const y = readFloat64(path.join(folder, `${part}_y.f64`));
  const base = { x, rows: y.length, cols: entry.cols, features: entry.features };
  return entry.task === 'classification'
    ? { ...base, task: 'classification', y: Int32Array.from(y), classes: entry.classes ?? [] }
    : { ...base, task: 'regression', y };
}

// ---------------------------------------------------------------- runs

interface Run {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly metrics: ModelMetrics;
}

function runOurs(dir: string, entry: DatasetEntry): Record<string, Run> {
  const raw = rawSplits.get(entry.name);
  const train = raw?.train ?? readSplit(dir, entry, 'train');
  const test = raw?.test ?? readSplit(dir, entry, 'test');
  const runs: Record<string, Run> = {};
  for (const spec of entry.candidates) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const model = trainCandidate(spec, train, TRAIN_SEED);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    runs[spec.family] = {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      metrics: evaluate(model, test),
    };
    console.log(`  ours    ${entry.name} ${spec.family}: ${seconds.toFixed(2)}s`);
  }
  return runs;
}

interface SklearnOutput {
  readonly versions: Record<string, string>;
  readonly threads: string[];
  readonly results: Record<
    string,
    Record<string, { seconds: number; cpu_seconds: number; metrics: Record<string, number> }>
  >;
}

function runSklearn(dir: string): SklearnOutput {
  const child = spawnSync(PYTHON, [path.join(ROOT, 'bench', 'training_sklearn.py'), dir], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: SKLEARN_THREADS, OPENBLAS_NUM_THREADS: SKLEARN_THREADS },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`training_sklearn.py failed with status ${child.status}`);
  return JSON.parse(child.stdout) as SklearnOutput;
}

// ---------------------------------------------------------------- report

/** The metric the comparison is judged on, per task (higher is better for both). */
const PRIMARY = { classification: 'accuracy', regression: 'r2' } as const;

function packageVersion(name: string): string {
  const file = path.join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function round(value: number, digits = 4): number {
  return Number(value.toPrecision(digits));
}

function updateReadme(line: string): void {
  const file = path.join(RESULTS, 'README.md');
  const marker = '- **training**';
  const existing = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmark results\n\nOne line per benchmark, rewritten by its latest run. Absolute figures move with the machine; compare ratios.\n\n';
  const lines = existing.split('\n');
  const at = lines.findIndex((l) => l.startsWith(marker));
  if (at >= 0) lines[at] = line;
  else lines.splice(lines.length - (lines.at(-1) === '' ? 1 : 0), 0, line);
  writeFileSync(file, lines.join('\n').replace(/\n*$/, '\n'));
}

async function main(): Promise<void> {
  const largeRows = Number(process.env.TRAINING_BENCH_ROWS ?? 150_000);
  if (!Number.isInteger(largeRows) || largeRows < 100) {
    throw new Error(`TRAINING_BENCH_ROWS must be an integer ≥ 100 (got ${process.env.TRAINING_BENCH_ROWS})`);
  }
  const forestTrees = Number(process.env.TRAINING_BENCH_FOREST_TREES ?? 100);
  if (!Number.isInteger(forestTrees) || forestTrees < 1) {
    throw new Error(
      `TRAINING_BENCH_FOREST_TREES must be an integer ≥ 1 (got ${process.env.TRAINING_BENCH_FOREST_TREES})`,
    );
  }
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run npm run setup`);
  const largeCandidates = defaultCandidates('classification').map((spec) =>
    spec.family === 'random_forest'
      ? parseCandidateSpec({ ...spec, params: { ...spec.params, n_estimators: forestTrees } })
      : spec,
  );
  const loadAtStart = os.loadavg();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'training-bench-'));
  try {
    console.log(`writing splits to ${dir} …`);
    const entries = [
      writeSplit(dir, 'iris', iris()),
      writeSplit(dir, 'diabetes', diabetes()),
      writeSplit(dir, `friedman1-${FRIEDMAN_ROWS}`, friedman1(FRIEDMAN_ROWS)),
      writeSplit(dir, `synthetic-3class-${largeRows}`, syntheticClassification(largeRows), largeCandidates),
      await writeRawSplit(dir, 'cars'),
      await writeRawSplit(
        dir,
        'cars-cylinders',
        path.join(ROOT, 'test/fixtures/cars-cylinders.input_schema.json'),
      ),
    ];
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ seed: TRAIN_SEED, datasets: entries }));

    console.log('ours …');
    const ours = Object.fromEntries(entries.map((entry) => [entry.name, runOurs(dir, entry)]));
    console.log('scikit-learn …');
    const sklearn = runSklearn(dir);

    const datasets = entries.map((entry) => {
      const metric = PRIMARY[entry.task];
      const families = Object.fromEntries(
        entry.candidates.map((spec) => {
          const mine = ours[entry.name]?.[spec.family] as Run;
          const theirs = sklearn.results[entry.name]?.[spec.family];
          if (!theirs) throw new Error(`scikit-learn gave no result for ${entry.name} ${spec.family}`);
          const oursMetric = (mine.metrics as Record<string, number>)[metric] as number;
          const sklearnMetric = theirs.metrics[metric] as number;
          return [
            spec.family,
            {
              params: spec.params,
              ours_metric: round(oursMetric),
              sklearn_metric: round(sklearnMetric),
              metric_diff_points: round((oursMetric - sklearnMetric) * 100, 3),
              ours_s: round(mine.seconds, 3),
              sklearn_s: round(theirs.seconds, 3),
              time_ratio: round(mine.seconds / theirs.seconds, 3),
              ours_cpu_s: round(mine.cpuSeconds, 3),
              sklearn_cpu_s: round(theirs.cpu_seconds, 3),
              cpu_ratio: round(mine.cpuSeconds / theirs.cpu_seconds, 3),
              ours_metrics: Object.fromEntries(Object.entries(mine.metrics).map(([k, v]) => [k, round(v)])),
              sklearn_metrics: Object.fromEntries(
                Object.entries(theirs.metrics).map(([k, v]) => [k, round(v)]),
              ),
            },
          ];
        }),
      );
      return {
        name: entry.name,
        task: entry.task,
        rows: entry.rows,
        cols: entry.cols,
        train_rows: rawSplits.get(entry.name)?.train.rows ?? entry.rows - Math.round(entry.rows * 0.3),
        test_rows: rawSplits.get(entry.name)?.test.rows ?? Math.round(entry.rows * 0.3),
        metric,
        families,
      };
    });

    const date = new Date().toISOString();
    const cpus = os.cpus();
    const result = {
      benchmark: 'training',
      date,
      machine: {
        cpu: cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        memory_gb: round(os.totalmem() / 2 ** 30, 3),
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        load_average_at_start: loadAtStart.map((load) => round(load, 3)),
        note: 'shared machine: absolute seconds move with its load, compare ratios',
      },
      versions: {
        node: process.version,
        'ml-matrix': packageVersion('ml-matrix'),
        ...sklearn.versions,
      },
      sklearn_threads: sklearn.threads,
      sklearn_thread_limit: Number(SKLEARN_THREADS),
      ours_threads: 1,
      split: `holdoutSplit 70/30, seed ${SPLIT_SEED}; training seed ${TRAIN_SEED}`,
      notes: [
        'metric_diff_points = (ours − sklearn) × 100 on accuracy (classification) or R² (regression)',
        'time_ratio = ours_s / sklearn_s, wall clock of training only (evaluation excluded); cpu_ratio the same in process CPU seconds, steadier on a loaded machine',
        `the large set's random forests grow ${forestTrees} trees on both sides (TRAINING_BENCH_FOREST_TREES)`,
        'sklearn HistGradientBoosting runs with early_stopping=False, as ours has none',
        'random forests: ours splits on ≤255 quantile bins per feature, sklearn on exact thresholds',
        "cars, cars-cylinders: raw columns (Origin a string category; missing Horsepower, Miles_per_Gallon) split by splitFrame 70/30 (seed 1, stratified for classification); sklearn: ColumnTransformer(SimpleImputer(mean) on numbers, OneHotEncoder(handle_unknown='ignore') on categories) [+ StandardScaler for the linear families] + the same estimator",
      ],
      datasets,
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'training.json'), `${JSON.stringify(result, null, 2)}\n`);

    const large = datasets.filter((dataset) => dataset.rows >= 100_000);
    const summary = large
      .map(
        (dataset) =>
          `${dataset.name} (${dataset.metric}) ` +
          Object.entries(dataset.families)
            .map(
              ([family, r]) =>
                `${family} ${r.ours_metric} vs ${r.sklearn_metric}, ${r.time_ratio}× time (${r.ours_s} s vs ${r.sklearn_s} s)`,
            )
            .join('; '),
      )
      .join(' | ');
    const gaps = datasets.flatMap((dataset) =>
      Object.entries(dataset.families).map(([family, r]) => ({
        at: `${dataset.name} ${family}`,
        points: r.metric_diff_points,
      })),
    );
    const shortfall = gaps.reduce((worst, gap) => (gap.points < worst.points ? gap : worst));
    const widest = gaps.reduce((worst, gap) => (Math.abs(gap.points) > Math.abs(worst.points) ? gap : worst));
    updateReadme(
      `- **training** (${date.slice(0, 10)}, ours vs scikit-learn ${sklearn.versions['scikit-learn']}, 1 thread each): ${summary}. ` +
        `Over all ${datasets.length} sets, ours is at most ${-Math.min(0, shortfall.points)} points below (${shortfall.at}); ` +
        `largest |gap| ${widest.points} points (${widest.at}). Details: training.json`,
    );
    console.log(JSON.stringify(datasets, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

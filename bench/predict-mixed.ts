/**
 * The predict benchmark on mixed string/number models: ours (`npm run serve`, one worker) against
 * `mlflow models serve` (one worker) on the same registered model, same `dataframe_split`
 * payloads, same concurrency, measured in interleaved slices.
 *
 * The models are the project's own, trained on the bundled cars data with `trainAndRegister`
 * (what `npm run train -- --dataset cars` runs) and registered in MLflow: a gradient_boosting
 * regressor of Miles_per_Gallon, and a random_forest classifier of Cylinders under the test
 * contract test/fixtures/cars-cylinders.input_schema.json. Each takes a string `Origin`, doubles,
 * a nullable Horsepower (imputed in the graph) and the datetime `Year`, one rank-1 input per
 * column, which mlflow.onnx's pyfunc feeds as they are. The payloads are real cars rows: 1 row
 * (the ford pinto, Horsepower null) and the first 100 cars (nulls included), `Year` as epoch ms
 * on both sides (the MLmodel signature says double; ours also takes an ISO date).
 *
 * A third entry is a scikit-learn pipeline converted with skl2onnx and logged with
 * `mlflow.onnx.log_model`: `mlflow models serve` cannot serve it (skl2onnx's [N, 1] inputs get
 * 1-D arrays from mlflow.onnx), so it records that error and our figures alone.
 *
 * Called by bench/predict.ts (its `mixed` figures), or alone: `tsx bench/predict-mixed.ts`.
 * Both write bench/results/predict-mixed.json and the predict-mixed line of bench/results/README.md.
 *   BENCH_DURATION_S (default 10), BENCH_MIXED_SKL2ONNX=0 skips the skl2onnx entry
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readContractFile } from '../lambdas/core/data';
import { bundledDatasets, defaultDatasetsDir } from '../lambdas/core/datasets';
import { trainAndRegister } from '../lambdas/core/lifecycle';
import { MlflowClient } from '../lambdas/core/mlflow';
import { apiCallerFromEnv, callApi, localEnv } from '../localstack/serve/api-client';
import { ROOT, up } from '../localstack/services/services';
import {
  freePort,
  killGroup,
  logSklearnModels,
  moveAlias,
  pythonEnv,
  run,
  type SklearnModels,
  serveCommand,
  VENV_BIN,
} from '../test/support/predict-fixtures';
import {
  combine,
  firstPrediction,
  type Measurement,
  measure,
  packageVersion,
  round,
  startProcess,
  stopAll,
} from './predict';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SLICES = 5;
const WARM_UP_S = 3;
const WITH_SKL2ONNX = process.env.BENCH_MIXED_SKL2ONNX !== '0';
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const CYLINDERS_CONTRACT = join(ROOT, 'test', 'fixtures', 'cars-cylinders.input_schema.json');
/** The ford pinto: the first car without Horsepower. */
const SINGLE_ROW = 38;
const MLFLOW_SETTING =
  'pandas option future.infer_string=False (sitecustomize): without it mlflow models serve answers 400 to every request on a model with a string input';

interface PayloadFigures {
  readonly ours: Measurement;
  readonly mlflow: Measurement;
  readonly ours_vs_mlflow: number;
}

export type MixedModelResult =
  | {
      readonly model: string;
      readonly registered: string;
      /** Ours and mlflow's answers to the 100-row payload, compared. */
      readonly answers: Agreement;
      readonly single: PayloadFigures;
      readonly batch100: PayloadFigures;
      readonly ten_times_mlflow: boolean;
    }
  /** The anchor answered no request with a prediction: ours alone, nothing to compare with. */
  | {
      readonly model: string;
      readonly registered: string;
      readonly anchor_error: string;
      readonly ours: { readonly single: Measurement; readonly batch100: Measurement };
    };

export interface MixedResult {
  readonly payloads: string;
  readonly mlflow_setting: string;
  readonly models: Readonly<Record<string, MixedModelResult>>;
  /** Every model both serve: ours at least 10× mlflow models serve on 1 and on 100 rows. */
  readonly ten_times_mlflow: boolean;
}

interface Registered {
  readonly description: string;
  readonly name: string;
  readonly version: string;
  readonly payloads: { readonly single: string; readonly batch100: string };
}

type Car = Record<string, string | number | null>;

/** The bundled cars rows as they are in cars.json. */
function carsRows(): Car[] {
  const dataset = bundledDatasets.get('cars');
  if (!dataset) throw new Error('cars is not a bundled dataset');
  return JSON.parse(readFileSync(join(defaultDatasetsDir(), dataset.dataFile), 'utf8')) as Car[];
}

/**
 * `dataframe_split` of cars rows with the given columns (in the data's order, not the model's),
 * `Year` as epoch ms: the double the MLmodel signature declares, which our API takes too.
 */
function carsPayload(cars: readonly Car[], columns: readonly string[], rows: readonly number[]): string {
  const data = rows.map((index) => {
    const car = cars[index];
    if (!car) throw new Error(`cars has no row ${index}`);
    return columns.map((column) => {
      const value = car[column] ?? null;
      if (column !== 'Year' || value === null) return value;
      const ms = Date.parse(String(value));
      if (Number.isNaN(ms)) throw new Error(`cars row ${index}: Year ${JSON.stringify(value)} is not a date`);
      return ms;
    });
  });
  return JSON.stringify({ dataframe_split: { columns, data } });
}

/** Trains the two cars models with the project's own trainers and registers them in MLflow. */
async function trainCarsModels(prefix: string, log: (line: string) => void): Promise<Registered[]> {
  const mlflow = MlflowClient.fromEnv();
  const cars = carsRows();
  const batchRows = Array.from({ length: 100 }, (_, i) => i);
  const models = [
    {
      key: 'cars_regressor',
      request: {
        dataset: 'cars',
        candidates: [{ name: 'gradient_boosting', family: 'gradient_boosting' }],
      },
      target: 'Miles_per_Gallon',
      describe: 'gradient_boosting regressor (default hyper-parameters) of Miles_per_Gallon',
    },
    {
      key: 'cars_classifier',
      request: {
        dataset: 'cars',
        contract: await readContractFile(CYLINDERS_CONTRACT),
        candidates: [{ name: 'random_forest', family: 'random_forest' }],
      },
      target: 'Cylinders',
      describe: 'random_forest classifier (default hyper-parameters) of Cylinders (5 classes)',
    },
  ];
  const registered: Registered[] = [];
  for (const model of models) {
    const name = `${prefix}-${model.key.replace('_', '-')}`;
    const result = await trainAndRegister(
      { ...model.request, modelName: name, experiment: `${prefix}-cars`, seed: 42 },
      { mlflow },
    );
    const [metric, value] = [result.metric.name, round(result.metric.value, 3)];
    log(`trained ${name} v${result.version} on ${result.dataset.train_rows} cars: ${metric} ${value}`);
    await moveAlias(mlflow.trackingUri, name, 'Production', result.version);
    const columns = Object.keys(cars[0] ?? {}).filter((c) => c !== 'Name' && c !== model.target);
    registered.push({
      description:
        `ours: ${model.describe} on the bundled cars (${result.dataset.train_rows} training rows, holdout ${metric} ${value}); ` +
        `inputs ${columns.join(', ')}: Origin a string, Horsepower nullable, Year a datetime (epoch ms)`,
      name,
      version: result.version,
      payloads: {
        single: carsPayload(cars, columns, [SINGLE_ROW]),
        batch100: carsPayload(cars, columns, batchRows),
      },
    });
  }
  return registered;
}

/** The skl2onnx pipeline (ZipMap classifier over string city, float size, int64 rooms). */
async function logSkl2onnxModel(trackingUri: string, prefix: string): Promise<Registered> {
  const logged = await logSklearnModels(trackingUri, `${prefix}-skl2onnx`);
  const name = `${prefix}-skl2onnx-zipmap`;
  await moveAlias(trackingUri, name, 'Production', logged.versions.zipmap);
  const payload = (rows: number) => {
    const data = Array.from({ length: rows }, (_, i) => {
      const row = logged.rows[i % logged.rows.length] as SklearnModels['rows'][number];
      return [row.size, row.rooms, row.city];
    });
    return JSON.stringify({ dataframe_split: { columns: ['size', 'rooms', 'city'], data } });
  };
  return {
    description:
      'Python user: scikit-learn ColumnTransformer pipeline (OneHotEncoder + StandardScaler + LogisticRegression) converted with skl2onnx (ZipMap), mlflow.onnx.log_model; string city, float size, int64 rooms',
    name,
    version: logged.versions.zipmap,
    payloads: { single: payload(1), batch100: payload(100) },
  };
}

/** Waits for the anchor to be up, then asks it once: null when it predicts, else its error. */
async function anchorAnswers(url: string, body: string): Promise<string | null> {
  const deadline = performance.now() + 180_000;
  while (performance.now() < deadline) {
    try {
      if ((await fetch(`${url}/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const response = await fetch(`${url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  if (response.ok) return null;
  const text = await response.text();
  let trace = text;
  try {
    trace = String((JSON.parse(text) as { stack_trace?: unknown }).stack_trace ?? text);
  } catch {
    // not MLflow's JSON error: keep the text
  }
  const lines = trace.trim().split('\n');
  return `HTTP ${response.status}: ${(lines.at(-1) ?? '').slice(0, 300)}`;
}

/** One row's answer, either side's shape: a label and its class probabilities, or a value. */
interface RowAnswer {
  readonly label?: string;
  readonly values: Readonly<Record<string, number>>;
}

/**
 * The answer to a payload, row by row: ours answers `[number]` or `[{label, probabilities}]`,
 * mlflow.onnx's pyfunc `[{prediction}]` or `[{label, probability_<class>...}]`. A 2xx without one
 * answer per row is an error, not a prediction.
 */
async function answersOf(url: string, body: string): Promise<RowAnswer[]> {
  const rows = (JSON.parse(body) as { dataframe_split: { data: unknown[] } }).dataframe_split.data.length;
  // Signed for ours (`npm run serve` checks SigV4); mlflow models serve ignores the headers.
  const response = await callApi(apiCallerFromEnv(localEnv()), url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${text.slice(0, 300)}`);
  const { predictions } = JSON.parse(text) as { predictions?: unknown };
  if (!Array.isArray(predictions) || predictions.length !== rows)
    throw new Error(`${url}: not ${rows} predictions in ${text.slice(0, 300)}`);
  return predictions.map((row: unknown, i): RowAnswer => {
    if (typeof row === 'number') return { values: { value: row } };
    if (row && typeof row === 'object') {
      const { label, probabilities, prediction, ...rest } = row as Record<string, unknown>;
      if (typeof prediction === 'number') return { values: { value: prediction } };
      if (label !== undefined && probabilities && typeof probabilities === 'object')
        return { label: String(label), values: probabilities as Record<string, number> };
      if (label !== undefined) {
        const values = Object.entries(rest)
          .filter(([key, value]) => key.startsWith('probability_') && typeof value === 'number')
          .map(([key, value]) => [key.slice('probability_'.length), value as number]);
        return { label: String(label), values: Object.fromEntries(values) };
      }
    }
    throw new Error(`${url}: prediction ${i} is neither a value nor a label: ${JSON.stringify(row)}`);
  });
}

export interface Agreement {
  readonly rows: number;
  /** Rows whose labels are the same on both sides (classifiers). */
  readonly same_labels?: number;
  /** Largest |ours − mlflow| over the values (regression) or class probabilities. */
  readonly max_abs_diff: number;
}

function agreement(ours: readonly RowAnswer[], mlflow: readonly RowAnswer[]): Agreement {
  let maxDiff = 0;
  let sameLabels = 0;
  for (const [i, a] of ours.entries()) {
    const b = mlflow[i] as RowAnswer;
    if (a.label !== undefined && a.label === b.label) sameLabels++;
    for (const [key, value] of Object.entries(a.values)) {
      const other = b.values[key];
      if (other === undefined) throw new Error(`row ${i}: mlflow has no ${key} beside ours`);
      maxDiff = Math.max(maxDiff, Math.abs(value - other));
    }
  }
  return {
    rows: ours.length,
    ...(ours[0]?.label !== undefined && { same_labels: sameLabels }),
    max_abs_diff: Number(maxDiff.toExponential(2)),
  };
}

async function benchOne(
  trackingUri: string,
  model: Registered,
  log: (line: string) => void,
): Promise<MixedModelResult> {
  const registered = `models:/${model.name}/${model.version}`;
  const { payloads } = model;
  const port = await freePort();
  const oursUrl = `http://127.0.0.1:${port}`;
  const { command, args } = serveCommand();
  const ours = startProcess(command, args, {
    ...process.env,
    MLFLOW_TRACKING_URI: trackingUri,
    PORT: String(port),
    MODEL_NAME: model.name,
    MAX_ROWS: '1000',
    SERVE_WORKERS: '1',
  });
  const mlflowPort = await freePort();
  const mlflowUrl = `http://127.0.0.1:${mlflowPort}`;
  const mlflow = startProcess(
    join(VENV_BIN, 'mlflow'),
    [
      'models',
      'serve',
      '--env-manager',
      'local',
      '-m',
      registered,
      '-h',
      '127.0.0.1',
      '-p',
      String(mlflowPort),
    ],
    { ...pythonEnv(), MLFLOW_TRACKING_URI: trackingUri, PYTHONPATH: objectStringsSiteDir() },
  );
  const servers: ChildProcess[] = [ours, mlflow];
  try {
    await firstPrediction(oursUrl, payloads.single, 60_000);
    const oursAnswers = await answersOf(`${oursUrl}/predict`, payloads.batch100);
    await answersOf(`${oursUrl}/predict`, payloads.single);
    const anchorProblem = await anchorAnswers(mlflowUrl, payloads.single);
    if (anchorProblem) {
      log(`${model.name}: mlflow models serve cannot serve it: ${anchorProblem}; measuring ours alone`);
      await killGroup(mlflow);
      const alone = async (body: string) => {
        await measure(`${oursUrl}/predict`, body, WARM_UP_S, undefined);
        return measure(`${oursUrl}/predict`, body, DURATION_S, ours);
      };
      return {
        model: model.description,
        registered,
        anchor_error: anchorProblem,
        ours: { single: await alone(payloads.single), batch100: await alone(payloads.batch100) },
      };
    }
    const answers = agreement(oursAnswers, await answersOf(`${mlflowUrl}/invocations`, payloads.batch100));
    log(`${model.name}: the 100-row answers of both: ${JSON.stringify(answers)}`);

    const targets = [
      ['ours', `${oursUrl}/predict`, ours],
      ['mlflow', `${mlflowUrl}/invocations`, mlflow],
    ] as const;
    const figures = {} as Record<'single' | 'batch100', PayloadFigures>;
    for (const [label, body] of Object.entries(payloads) as ['single' | 'batch100', string][]) {
      for (const [, url] of targets) await measure(url, body, WARM_UP_S, undefined);
      const slices: Record<string, Measurement[]> = { ours: [], mlflow: [] };
      for (let slice = 0; slice < SLICES; slice++) {
        const order = slice % 2 === 0 ? targets : [...targets].reverse();
        for (const [target, url, server] of order)
          slices[target]?.push(await measure(url, body, DURATION_S / SLICES, server));
      }
      const oursM = combine(slices.ours ?? []);
      const mlflowM = combine(slices.mlflow ?? []);
      figures[label] = { ours: oursM, mlflow: mlflowM, ours_vs_mlflow: round(oursM.rps / mlflowM.rps, 2) };
      log(
        `${model.name} ${label}: ours ${oursM.rps.toFixed(0)} req/s (p99 ${oursM.p99_ms} ms, non-2xx ${oursM.non2xx}), ` +
          `mlflow ${mlflowM.rps.toFixed(0)} req/s (p99 ${mlflowM.p99_ms} ms, non-2xx ${mlflowM.non2xx}): ${figures[label].ours_vs_mlflow}×`,
      );
    }
    const clean = (m: Measurement) => m.non2xx === 0 && m.errors === 0;
    return {
      model: model.description,
      registered,
      answers,
      single: figures.single,
      batch100: figures.batch100,
      ten_times_mlflow:
        figures.single.ours_vs_mlflow >= 10 &&
        figures.batch100.ours_vs_mlflow >= 10 &&
        [figures.single, figures.batch100].every((f) => clean(f.ours) && clean(f.mlflow)),
    };
  } finally {
    for (const server of servers) await killGroup(server);
  }
}

export async function benchMixedModel(
  trackingUri: string,
  log: (line: string) => void,
): Promise<MixedResult> {
  const prefix = `predict-mixed-bench-${Date.now().toString(36)}`;
  log(`training the cars models with the project's trainers (${prefix}-*)`);
  const models = await trainCarsModels(prefix, log);
  if (WITH_SKL2ONNX) {
    log('logging the scikit-learn pipeline with skl2onnx + mlflow.onnx.log_model');
    models.push(await logSkl2onnxModel(trackingUri, prefix));
  }
  const keys = ['cars_regressor', 'cars_classifier', 'skl2onnx_classifier'];
  const results: Record<string, MixedModelResult> = {};
  for (const [i, model] of models.entries()) {
    log(`measuring ${model.name} (ours and mlflow models serve, one worker each)`);
    results[keys[i] ?? model.name] = await benchOne(trackingUri, model, log);
  }
  const compared = Object.values(results).filter((r) => 'ten_times_mlflow' in r);
  return {
    payloads: `dataframe_split, 1 row (cars row ${SINGLE_ROW}, Horsepower null) and 100 rows (the first 100 cars, nulls included) for the cars models; Year as epoch ms`,
    mlflow_setting: MLFLOW_SETTING,
    models: results,
    ten_times_mlflow: compared.length > 0 && compared.every((r) => r.ten_times_mlflow),
  };
}

/**
 * A `sitecustomize.py` that makes pandas 3 keep strings as object arrays. Without it the anchor
 * cannot serve a string-input model at all: mlflow.onnx hands pandas 3's default string column
 * to onnxruntime, which refuses it ("Input must be a list of dictionaries or a single numpy
 * array for input ..."), so every request is a 400. It is what a Python user must do too.
 */
function objectStringsSiteDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mixed-site-'));
  writeFileSync(
    join(dir, 'sitecustomize.py'),
    "import pandas as pd\nimport warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n    pd.set_option('future.infer_string', False)\n",
  );
  return dir;
}

/** Writes bench/results/predict-mixed.json and the predict-mixed line of bench/results/README.md. */
export async function writeMixedResults(result: MixedResult): Promise<object> {
  const report = {
    benchmark: 'predict-mixed',
    date: new Date().toISOString(),
    note: 'one process each, load generator on the same (shared) machine: compare ratios',
    versions: {
      node: process.version,
      'onnxruntime-node': packageVersion('onnxruntime-node'),
      autocannon: packageVersion('autocannon'),
      mlflow: (
        await run(join(VENV_BIN, 'python'), ['-c', 'import mlflow; print(mlflow.__version__)'], pythonEnv())
      ).stdout.trim(),
    },
    settings: { connections: CONNECTIONS, duration_s: DURATION_S, slices: SLICES, workers: 1 },
    ...result,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'predict-mixed.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeReadmeLine(report.date, result);
  return report;
}

function writeReadmeLine(date: string, result: MixedResult): void {
  const file = join(RESULTS_DIR, 'README.md');
  const header =
    '# Benchmark results\n\nOne line per benchmark, rewritten by its latest run. Absolute figures move with the machine; compare ratios.\n\n';
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : header;
  const parts = Object.entries(result.models).map(([key, r]) => {
    if ('anchor_error' in r) {
      const reason = (r.anchor_error.split(' : ').at(-1) ?? r.anchor_error)
        .split(' Please')[0]
        ?.slice(0, 100);
      return `${key} ours alone, mlflow models serve cannot serve it ("${reason}"): 1 row ${round(r.ours.single.rps)} req/s, 100 rows ${round(r.ours.batch100.rps)} req/s`;
    }
    const side = (f: PayloadFigures) =>
      `${round(f.ours.rps)} req/s = ${f.ours_vs_mlflow}× mlflow (${round(f.mlflow.rps)}), p99 ${f.ours.p99_ms} ms`;
    const labels =
      r.answers.same_labels === undefined ? '' : `, ${r.answers.same_labels}/${r.answers.rows} same labels`;
    return `${key} 1 row ${side(r.single)}; 100 rows ${side(r.batch100)}; answers as mlflow's (max |Δ| ${r.answers.max_abs_diff.toExponential(1)}${labels})`;
  });
  const line =
    `- **predict-mixed** (${date.slice(0, 10)}, c=${CONNECTIONS}, ${DURATION_S} s, one worker each, our models trained on cars: string Origin, null Horsepower, Year as epoch ms): ` +
    `${parts.join('; ')}. ≥ 10× mlflow on every model both serve: ${result.ten_times_mlflow ? 'yes' : 'no'}. Details: predict-mixed.json`;
  const lines = existing.split('\n');
  const at = lines.findIndex((l) => l.startsWith('- **predict-mixed**'));
  if (at >= 0) lines[at] = line;
  else {
    const predict = lines.findIndex((l) => l.startsWith('- **predict**'));
    if (predict >= 0) lines.splice(predict + 1, 0, line);
    else lines.splice(lines.length - (lines.at(-1) === '' ? 1 : 0), 0, line);
  }
  writeFileSync(file, lines.join('\n').replace(/\n*$/, '\n'));
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[bench:predict-mixed] ${line}\n`);
  const env = await up({ log });
  Object.assign(process.env, env);
  const result = await benchMixedModel(env.MLFLOW_TRACKING_URI, log);
  const report = await writeMixedResults(result);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main()
    .then(stopAll)
    .catch(async (error: unknown) => {
      await stopAll();
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
}

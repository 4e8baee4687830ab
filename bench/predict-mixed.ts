/**
 * The predict benchmark on a mixed string/number model: a scikit-learn ColumnTransformer pipeline
 * (OneHotEncoder on a string column, StandardScaler on a float and an int64 one) converted with
 * skl2onnx and logged with `mlflow.onnx.log_model`, served by ours (`npm run serve`, one worker)
 * and by `mlflow models serve` (one worker), same `dataframe_split` payloads (1 and 100 rows),
 * same concurrency, measured in interleaved slices. Called by bench/predict.ts (its `mixed`
 * figures), or alone: `tsx bench/predict-mixed.ts` writes bench/results/predict-mixed.json.
 *
 *   BENCH_MIXED_MODEL: zipmap (default: skl2onnx's default classifier, ZipMap probabilities),
 *   tensor (zipmap=False) or regressor
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, up } from '../localstack/services/services';
import {
  freePort,
  logSklearnModels,
  pythonEnv,
  type SklearnModels,
  serveCommand,
  setAlias,
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
const SLICES = 5;
const WARM_UP_S = 3;
const KIND = (process.env.BENCH_MIXED_MODEL ?? 'zipmap') as keyof SklearnModels['versions'];

interface PayloadFigures {
  readonly ours: Measurement;
  readonly mlflow: Measurement;
  readonly ours_vs_mlflow: number;
}

export type MixedResult =
  | {
      readonly model: string;
      readonly single: PayloadFigures;
      readonly batch100: PayloadFigures;
      readonly ten_times_mlflow: boolean;
      readonly mlflow_setting: string;
    }
  /** The anchor answered no request with a prediction: ours alone, nothing to compare with. */
  | {
      readonly model: string;
      readonly anchor_error: string;
      readonly ours: { readonly single: Measurement; readonly batch100: Measurement };
    };

function describeModel(): string {
  return `skl2onnx ColumnTransformer pipeline (${KIND}): string city, float size, int64 rooms`;
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

export async function benchMixedModel(
  trackingUri: string,
  log: (line: string) => void,
): Promise<MixedResult> {
  const prefix = `predict-mixed-bench-${Date.now().toString(36)}`;
  log(`logging the scikit-learn pipelines with skl2onnx + mlflow.onnx.log_model (${prefix}-*)`);
  const logged = await logSklearnModels(trackingUri, prefix);
  const name = `${prefix}-${KIND}`;
  await setAlias(trackingUri, name, 'Production', logged.versions[KIND]);
  const payloads = { single: payload(logged, 1), batch100: payload(logged, 100) };

  const port = await freePort();
  const oursUrl = `http://127.0.0.1:${port}`;
  const { command, args } = serveCommand();
  const ours = startProcess(command, args, {
    ...process.env,
    MLFLOW_TRACKING_URI: trackingUri,
    PORT: String(port),
    MODEL_NAME: name,
    MAX_ROWS: '1000',
    SERVE_WORKERS: '1',
  });
  await firstPrediction(oursUrl, payloads.single, 60_000);

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
      `models:/${name}/${logged.versions[KIND]}`,
      '-h',
      '127.0.0.1',
      '-p',
      String(mlflowPort),
    ],
    { ...pythonEnv(), MLFLOW_TRACKING_URI: trackingUri, PYTHONPATH: objectStringsSiteDir() },
  );
  const anchorProblem = await anchorAnswers(mlflowUrl, payloads.single);
  if (anchorProblem) {
    log(`mlflow models serve cannot serve this model: ${anchorProblem}; measuring ours alone`);
    const alone = async (body: string) => {
      await measure(`${oursUrl}/predict`, body, WARM_UP_S, undefined);
      return measure(`${oursUrl}/predict`, body, DURATION_S, ours);
    };
    return {
      model: describeModel(),
      anchor_error: anchorProblem,
      ours: { single: await alone(payloads.single), batch100: await alone(payloads.batch100) },
    };
  }

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
      `mixed ${label}: ours ${oursM.rps.toFixed(0)} req/s (p99 ${oursM.p99_ms} ms, non-2xx ${oursM.non2xx}), ` +
        `mlflow ${mlflowM.rps.toFixed(0)} req/s (non-2xx ${mlflowM.non2xx}): ${figures[label].ours_vs_mlflow}×`,
    );
  }
  return {
    model: describeModel(),
    single: figures.single,
    batch100: figures.batch100,
    ten_times_mlflow: figures.single.ours_vs_mlflow >= 10 && figures.batch100.ours_vs_mlflow >= 10,
    mlflow_setting:
      'pandas option future.infer_string=False (sitecustomize): without it mlflow models serve answers 400 to every request on this model',
  };
}

/**
 * A `sitecustomize.py` that makes pandas 3 keep strings as object arrays. Without it the anchor
 * cannot serve this model at all: mlflow.onnx hands pandas 3's default string column to
 * onnxruntime, which refuses it ("Input must be a list of dictionaries or a single numpy array
 * for input 'city'"), so every request is a 400. It is what a Python user must do too.
 */
function objectStringsSiteDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mixed-site-'));
  writeFileSync(
    join(dir, 'sitecustomize.py'),
    "import pandas as pd\nimport warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n    pd.set_option('future.infer_string', False)\n",
  );
  return dir;
}

/** Rows of the held-out frame, repeated, as `dataframe_split` with the columns in another order. */
function payload(logged: SklearnModels, rows: number): string {
  const data = Array.from({ length: rows }, (_, i) => {
    const row = logged.rows[i % logged.rows.length] as SklearnModels['rows'][number];
    return [row.size, row.rooms, row.city];
  });
  return JSON.stringify({ dataframe_split: { columns: ['size', 'rooms', 'city'], data } });
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[bench:predict-mixed] ${line}\n`);
  const env = await up({ log });
  Object.assign(process.env, env);
  const result = await benchMixedModel(env.MLFLOW_TRACKING_URI, log);
  const report = {
    benchmark: 'predict-mixed',
    date: new Date().toISOString(),
    note: 'one process each, load generator on the same (shared) machine: compare ratios',
    versions: { node: process.version, 'onnxruntime-node': packageVersion('onnxruntime-node') },
    settings: { duration_s: DURATION_S, slices: SLICES },
    ...result,
  };
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'predict-mixed.json'), `${JSON.stringify(report, null, 2)}\n`);
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

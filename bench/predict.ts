/**
 * `npm run bench:predict`: throughput and latency of the predict API (`npm run serve`, the
 * Lambda handler behind the API Gateway adapter) against `mlflow models serve` on the same
 * registered model, and against a bare Node HTTP server answering a constant JSON (the ceiling
 * any handler on this machine could reach). Same payloads (1 row, 100 rows), same concurrency,
 * same load generator (autocannon), one server at a time. Also measures our cold start
 * (process start to first prediction), the first prediction from the serving manifest against the
 * MLflow path in the same run with the alias-follow latency (bench/predict-cold-start.ts), and
 * how long a model swap takes.
 *
 * The headline figures compare one process each (ours `SERVE_WORKERS=1`, MLflow's default one
 * worker, a one-process ceiling). `adapter_floor` is the same adapter around a constant answer
 * (bench/predict-adapter-floor.ts) and `handler_layers_cpu_us` splits the handler's CPU per request
 * into its layers, in-process (bench/predict-layers.ts). `multi_worker` adds ours and the ceiling with BENCH_WORKERS
 * processes (default: one per CPU; ours as SERVE_WORKERS, the ceiling as a node:cluster). The
 * targets are measured in interleaved slices, so a busy machine slows them alike and the ratios
 * stay comparable.
 *
 * Writes bench/results/predict.json and a line in bench/results/README.md.
 *   BENCH_DURATION_S (default 10), BENCH_CONNECTIONS (default 16), BENCH_WORKERS
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { apiCallerFromEnv, authHeaders, callApi, localEnv } from '../localstack/serve/api-client';
import { ROOT, up } from '../localstack/services/services';
import {
  freePort,
  IRIS_COLUMNS,
  killGroup,
  moveAlias,
  pythonEnv,
  type RegisteredVersion,
  registerIrisModels,
  run,
  serveCommand,
  sleep,
  VENV_BIN,
} from '../test/support/predict-fixtures';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WORKERS = Number(process.env.BENCH_WORKERS ?? availableParallelism());
const SLICES = 5;
const WARM_UP_S = 3;
const RESULTS_DIR = join(ROOT, 'bench', 'results');

// autocannon ships no types; its result is checked with a schema instead.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: object) => Promise<unknown>;
const AUTOCANNON_RESULT = z.object({
  requests: z.object({ average: z.number(), total: z.number() }),
  latency: z.object({ average: z.number(), p50: z.number(), p99: z.number(), max: z.number() }),
  non2xx: z.number(),
  errors: z.number(),
  timeouts: z.number(),
});

export interface Measurement {
  /** CPU time the server's processes spent per answered request: robust to a busy machine. */
  readonly cpu_us_per_request: number;
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly mean_ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

const started: ChildProcess[] = [];

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[bench:predict] ${line}\n`);
  log('starting the local services (MLflow, S3 endpoint)');
  const env = await up({ log });
  Object.assign(process.env, env);

  const name = `predict-bench-${Date.now().toString(36)}`;
  log(`registering ${name} v1 and v2 from Python (mlflow.onnx.log_model)`);
  const [versions] = await registerIrisModels([
    { trackingUri: env.MLFLOW_TRACKING_URI, name, versions: [{}, { intercepts: [0.1, 1.2, -1.2] }] },
  ]);
  const [v1, v2] = (versions ?? []) as [RegisteredVersion, RegisteredVersion];
  await moveAlias(env.MLFLOW_TRACKING_URI, name, 'Production', v1.version);

  const payloads = { single: payload(1), batch100: payload(100) };

  log(`starting ours: npm run serve with one worker, and with ${WORKERS}`);
  const startOurs = async (workers: number) => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const startedAt = performance.now();
    // The command line of `npm run serve`.
    const { command, args } = serveCommand();
    const server = startProcess(command, args, {
      ...process.env,
      PORT: String(port),
      MODEL_NAME: name,
      ALIAS_TTL_SECONDS: '1',
      MAX_ROWS: '1000',
      SERVE_WORKERS: String(workers),
    });
    await firstPrediction(url, payloads.single, 60_000);
    return { url, server, coldStartMs: performance.now() - startedAt };
  };
  const { url: oursUrl, server: ours, coldStartMs } = await startOurs(1);
  log(`ours answered its first prediction ${coldStartMs.toFixed(0)} ms after process start`);
  const { url: oursNUrl, server: oursN } = await startOurs(WORKERS);

  log('starting mlflow models serve --env-manager local');
  const mlflowPort = await freePort();
  const mlflowUrl = `http://127.0.0.1:${mlflowPort}`;
  const mlflowStart = performance.now();
  const mlflow = startProcess(
    join(VENV_BIN, 'mlflow'),
    [
      'models',
      'serve',
      '--env-manager',
      'local',
      '-m',
      `models:/${name}/${v1.version}`,
      '-h',
      '127.0.0.1',
      '-p',
      String(mlflowPort),
    ],
    { ...pythonEnv(), MLFLOW_TRACKING_URI: env.MLFLOW_TRACKING_URI },
  );
  await firstPrediction(mlflowUrl, payloads.single, 180_000, '/invocations');
  const mlflowColdStartMs = performance.now() - mlflowStart;

  log('starting the ceiling: a bare Node HTTP server answering a constant JSON');
  const ceilingPort = await freePort();
  const ceilingUrl = `http://127.0.0.1:${ceilingPort}`;
  const constant = await (await post(`${oursUrl}/predict`, payloads.single)).text();
  const ceiling = startProcess(process.execPath, [ceilingScript(ceilingPort, constant, 1)], process.env);
  await firstPrediction(ceilingUrl, payloads.single, 10_000);
  const ceilingNPort = await freePort();
  const ceilingNUrl = `http://127.0.0.1:${ceilingNPort}`;
  const ceilingN = startProcess(
    process.execPath,
    [ceilingScript(ceilingNPort, constant, WORKERS)],
    process.env,
  );
  await firstPrediction(ceilingNUrl, payloads.single, 10_000);

  log('starting the adapter floor: the API Gateway adapter around a constant answer');
  const floorPort = await freePort();
  const floorUrl = `http://127.0.0.1:${floorPort}`;
  const floorCommand = serveCommandFor(join('bench', 'predict-adapter-floor.ts'));
  const floor = startProcess(floorCommand.command, floorCommand.args, {
    ...process.env,
    PORT: String(floorPort),
    FLOOR_ANSWER: constant,
  });
  await firstPrediction(floorUrl, payloads.single, 30_000);

  log('measuring the handler layer by layer, in-process');
  const layers = {
    single: await handlerLayers(name, payloads.single, 20_000),
    batch100: await handlerLayers(name, payloads.batch100, 2_000),
  };

  const targets = [
    ['ours', `${oursUrl}/predict`, ours],
    ['mlflow', `${mlflowUrl}/invocations`, mlflow],
    ['ceiling', `${ceilingUrl}/predict`, ceiling],
    ['ours_workers', `${oursNUrl}/predict`, oursN],
    ['ceiling_workers', `${ceilingNUrl}/predict`, ceilingN],
    ['adapter_floor', `${floorUrl}/predict`, floor],
  ] as const;
  const results: Record<string, Record<string, Measurement>> = {};
  for (const [label, body] of Object.entries(payloads)) {
    // JIT and caches warm, at the same concurrency.
    for (const [, url] of targets) await measure(url, body, WARM_UP_S, undefined);
    const slices: Record<string, Measurement[]> = Object.fromEntries(targets.map(([target]) => [target, []]));
    for (let slice = 0; slice < SLICES; slice++) {
      // Alternate the order so no target always follows the same one.
      const order = slice % 2 === 0 ? targets : [...targets].reverse();
      for (const [target, url, server] of order) {
        slices[target]?.push(await measure(url, body, DURATION_S / SLICES, server));
      }
    }
    results[label] = {};
    for (const [target] of targets) {
      const measurement = combine(slices[target] ?? []);
      log(
        `${label} ${target}: ${measurement.rps.toFixed(0)} req/s, p50 ${measurement.p50_ms} ms, p99 ${measurement.p99_ms} ms, ` +
          `${measurement.cpu_us_per_request} µs CPU/req, non-2xx ${measurement.non2xx}`,
      );
      results[label][target] = measurement;
    }
  }

  log('measuring the mixed string/number model (bench/predict-mixed.ts)');
  const { benchMixedModel, writeMixedResults } = await import('./predict-mixed');
  const mixed = await benchMixedModel(env.MLFLOW_TRACKING_URI, log);
  await writeMixedResults(mixed);

  log('measuring a model swap (alias moved to a version not loaded yet)');
  const swap = await measureSwap(oursUrl, 1, env.MLFLOW_TRACKING_URI, name, v2.version, payloads.single);

  log('measuring cold start from the serving manifest against the MLflow path (bench/predict-cold-start.ts)');
  const { benchColdStart, writeColdStartResults } = await import('./predict-cold-start');
  const coldStart = await benchColdStart(env.MLFLOW_TRACKING_URI, name, [v1, v2], log);
  writeColdStartResults(coldStart);

  const summary = (label: string) => {
    const r = results[label] as Record<(typeof targets)[number][0], Measurement>;
    return {
      ours_rps: round(r.ours.rps),
      mlflow_rps: round(r.mlflow.rps),
      ceiling_rps: round(r.ceiling.rps),
      ours_p50_ms: r.ours.p50_ms,
      ours_p99_ms: r.ours.p99_ms,
      mlflow_p99_ms: r.mlflow.p99_ms,
      ceiling_p99_ms: r.ceiling.p99_ms,
      ours_vs_mlflow: round(r.ours.rps / r.mlflow.rps, 2),
      ours_vs_ceiling: round(r.ours.rps / r.ceiling.rps, 3),
      cpu_us_per_request: {
        ours: r.ours.cpu_us_per_request,
        mlflow: r.mlflow.cpu_us_per_request,
        ceiling: r.ceiling.cpu_us_per_request,
      },
      non2xx: { ours: r.ours.non2xx, mlflow: r.mlflow.non2xx, ceiling: r.ceiling.non2xx },
      // The API Gateway adapter around a constant answer: what no handler behind it can beat.
      adapter_floor: {
        rps: round(r.adapter_floor.rps),
        cpu_us_per_request: r.adapter_floor.cpu_us_per_request,
        vs_ceiling: round(r.adapter_floor.rps / r.ceiling.rps, 3),
        ours_vs_floor: round(r.ours.rps / r.adapter_floor.rps, 3),
      },
      handler_layers_cpu_us: layers[label as keyof typeof layers],
      targets_met: {
        ten_times_mlflow: r.ours.rps >= 10 * r.mlflow.rps,
        sixty_percent_of_ceiling: r.ours.rps >= 0.6 * r.ceiling.rps,
        p99_at_most_5ms: r.ours.p99_ms <= 5,
      },
      multi_worker: {
        workers: WORKERS,
        ours_rps: round(r.ours_workers.rps),
        ceiling_rps: round(r.ceiling_workers.rps),
        ours_vs_ceiling: round(r.ours_workers.rps / r.ceiling_workers.rps, 3),
        ours_p99_ms: r.ours_workers.p99_ms,
        cpu_us_per_request: {
          ours: r.ours_workers.cpu_us_per_request,
          ceiling: r.ceiling_workers.cpu_us_per_request,
        },
      },
    };
  };
  const report = {
    benchmark: 'predict',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      memory_gb: round(totalmem() / 1024 ** 3, 1),
      platform: `${process.platform}-${process.arch}`,
      note: 'load generator and servers share the machine (and it is shared with other jobs): compare ratios',
    },
    versions: {
      node: process.version,
      'onnxruntime-node': packageVersion('onnxruntime-node'),
      '@middy/core': packageVersion('@middy/core'),
      autocannon: packageVersion('autocannon'),
      mlflow: (
        await run(join(VENV_BIN, 'python'), ['-c', 'import mlflow; print(mlflow.__version__)'], pythonEnv())
      ).stdout.trim(),
    },
    settings: {
      workers: WORKERS,
      slices: SLICES,
      connections: CONNECTIONS,
      duration_s: DURATION_S,
      payload_rows: { single: 1, batch100: 100 },
    },
    ...summary('single'),
    cold_start_ms: round(coldStartMs),
    cold_start_from_manifest: coldStart,
    mlflow_cold_start_ms: round(mlflowColdStartMs),
    swap_visible_ms: round(swap.visibleMs),
    swap_first_worker_ms: round(swap.firstMs),
    swap_load_ms: swap.loadMs,
    alias_ttl_s: 1,
    batch100: summary('batch100'),
    mixed,
    raw: results,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'predict.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeReadmeLine(
    report.date,
    summary('single'),
    summary('batch100'),
    report.cold_start_ms,
    report.swap_load_ms,
  );
  log(`wrote bench/results/predict.json`);
  process.stdout.write(`${JSON.stringify({ ...report, raw: undefined }, null, 2)}\n`);
}

function payload(rows: number): string {
  const data = Array.from({ length: rows }, (_, i) => [
    5.1 + (i % 10) / 10,
    3.5,
    1.4 + (i % 7) / 2,
    0.2 + (i % 5) / 2,
  ]);
  return JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data } });
}

export async function measure(
  url: string,
  body: string,
  durationS: number,
  server: ChildProcess | undefined,
): Promise<Measurement> {
  // Signed once: a SigV4 signature stays valid for 5 minutes, longer than a run, and the
  // server still checks it on every request (as API Gateway does).
  const headers = await authHeaders(apiCallerFromEnv(localEnv()), url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const cpuBefore = server?.pid ? groupCpuSeconds(server.pid) : 0;
  const raw = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: durationS,
  });
  const result = AUTOCANNON_RESULT.parse(raw);
  const cpuSeconds = server?.pid ? groupCpuSeconds(server.pid) - cpuBefore : 0;
  return {
    cpu_us_per_request: round((cpuSeconds * 1e6) / Math.max(1, result.requests.total), 1),
    rps: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    mean_ms: round(result.latency.average, 2),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * One measurement from a target's slices: throughput and CPU over all of them; for latency the
 * slices' median p50 and their worst p99.
 */
export function combine(slices: readonly Measurement[]): Measurement {
  const requests = slices.reduce((sum, m) => sum + m.rps * (DURATION_S / SLICES), 0);
  const cpuUs = slices.reduce((sum, m) => sum + m.cpu_us_per_request * m.rps * (DURATION_S / SLICES), 0);
  const p50s = slices.map((m) => m.p50_ms).sort((a, b) => a - b);
  return {
    cpu_us_per_request: round(cpuUs / Math.max(1, requests), 1),
    rps: requests / DURATION_S,
    p50_ms: p50s[Math.floor(p50s.length / 2)] ?? 0,
    p99_ms: Math.max(...slices.map((m) => m.p99_ms)),
    mean_ms: round(slices.reduce((sum, m) => sum + m.mean_ms, 0) / Math.max(1, slices.length), 2),
    non2xx: slices.reduce((sum, m) => sum + m.non2xx, 0),
    errors: slices.reduce((sum, m) => sum + m.errors, 0),
  };
}

/**
 * Moves the alias to a version the server has not loaded; the swap shows after the TTL plus the
 * load. Each worker follows the alias on its own, so the swap counts as visible once a run of
 * answers (four per worker, spread over them by the cluster's round robin) all carry the version.
 */
async function measureSwap(
  url: string,
  workers: number,
  trackingUri: string,
  name: string,
  version: string,
  body: string,
): Promise<{ visibleMs: number; firstMs: number; loadMs: number | null }> {
  await moveAlias(trackingUri, name, 'Production', version);
  const start = performance.now();
  let firstMs: number | undefined;
  let runStartedMs: number | undefined;
  let run = 0;
  while (performance.now() - start < 30_000) {
    const answer = (await (await post(`${url}/predict`, body)).json()) as { model?: { version?: string } };
    const now = performance.now() - start;
    if (answer.model?.version === version) {
      firstMs ??= now;
      runStartedMs ??= now;
      run++;
    } else {
      run = 0;
      runStartedMs = undefined;
    }
    if (run >= 4 * workers && runStartedMs !== undefined) {
      const status = (await (await callApi(apiCallerFromEnv(localEnv()), `${url}/status`)).json()) as {
        aliases: { alias: string; last_load_ms: number | null }[];
      };
      const loadMs = status.aliases.find((alias) => alias.alias === 'Production')?.last_load_ms ?? null;
      return { visibleMs: runStartedMs, firstMs: firstMs ?? runStartedMs, loadMs };
    }
    await sleep(5);
  }
  throw new Error('the swap did not show within 30 s');
}

/** User + system CPU seconds of every process in a process group (the server and its workers). */
export function groupCpuSeconds(groupId: number): number {
  const TICKS_PER_SECOND = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(fields[2]) === groupId) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${command} exited with ${code}:\n${stderr}\n`);
  });
  started.push(child);
  return child;
}

export async function firstPrediction(
  base: string,
  body: string,
  timeoutMs: number,
  path = '/predict',
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      if ((await post(`${base}${path}`, body)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`${base}${path} gave no prediction within ${timeoutMs} ms`);
}

/** `npm run serve`'s command line (runtime and flags) running another entry file. */
function serveCommandFor(entry: string): { command: string; args: string[] } {
  const { command, args } = serveCommand();
  return { command, args: [...args.filter((arg) => !arg.endsWith('.ts')), entry] };
}

/** Runs bench/predict-layers.ts on the registered model: µs of CPU per call for each layer. */
async function handlerLayers(model: string, body: string, calls: number): Promise<Record<string, number>> {
  const { command, args } = serveCommandFor(join('bench', 'predict-layers.ts'));
  // Not the fixtures' run(): that keeps stdout, here a million EMF lines; like ours, into /dev/null.
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      MODEL_NAME: model,
      LAYER_BODY: body,
      LAYER_CALLS: String(calls),
      MAX_ROWS: '1000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const last = stderr.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`bench/predict-layers.ts exited with ${code}:\n${stderr.slice(-2000)}`);
  return z.record(z.string(), z.number()).parse(JSON.parse(last));
}

function post(url: string, body: string): Promise<Response> {
  return callApi(apiCallerFromEnv(localEnv()), url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

/**
 * The ceiling: reads the body like any handler must, answers the same bytes every time. Written
 * to a file: node:cluster forks workers from a script path.
 */
function ceilingScript(port: number, answer: string, workers: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'predict-ceiling-')), 'ceiling.cjs');
  writeFileSync(file, ceilingSource(port, answer, workers));
  return file;
}

function ceilingSource(port: number, answer: string, workers: number): string {
  return `
    const cluster = require('node:cluster');
    if (cluster.isPrimary && ${workers} > 1) {
      for (let i = 0; i < ${workers}; i++) cluster.fork();
    } else {
      const body = Buffer.from(${JSON.stringify(answer)});
      require('node:http').createServer((req, res) => {
        req.on('data', () => {});
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
          res.end(body);
        });
      }).listen(${port}, '127.0.0.1');
    }`;
}

function writeReadmeLine(
  date: string,
  single: {
    ours_rps: number;
    mlflow_rps: number;
    ceiling_rps: number;
    ours_p99_ms: number;
    ours_vs_mlflow: number;
    ours_vs_ceiling: number;
    adapter_floor: { vs_ceiling: number; ours_vs_floor: number };
    handler_layers_cpu_us: Record<string, number> | undefined;
  },
  batch: { ours_rps: number; mlflow_rps: number; ours_vs_mlflow: number; ours_vs_ceiling: number },
  coldStartMs: number,
  swapLoadMs: number | null,
): void {
  const file = join(RESULTS_DIR, 'README.md');
  const header =
    '# Benchmark results\n\nOne line per benchmark, rewritten by its latest run. Absolute figures move with the machine; compare ratios.\n\n';
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : header;
  const line =
    `- **predict** (${date.slice(0, 10)}, c=${CONNECTIONS}, ${DURATION_S} s): 1 row ${single.ours_rps} req/s = ` +
    `${single.ours_vs_mlflow}× mlflow models serve (${single.mlflow_rps}), ${(single.ours_vs_ceiling * 100).toFixed(0)}% of a bare ` +
    `Node server (${single.ceiling_rps}), p99 ${single.ours_p99_ms} ms; the API Gateway adapter around a constant answer ` +
    `${percent(single.adapter_floor.vs_ceiling)} of it, ours ${percent(single.adapter_floor.ours_vs_floor)} of that adapter floor; ` +
    `handler CPU in-process ${single.handler_layers_cpu_us?.handler ?? '?'} µs/request (${single.handler_layers_cpu_us?.handler_no_emf ?? '?'} µs without EMF); 100 rows ${batch.ours_rps} req/s = ${batch.ours_vs_mlflow}× mlflow, ` +
    `${(batch.ours_vs_ceiling * 100).toFixed(0)}% of ceiling; cold start ${coldStartMs} ms; model swap load ${swapLoadMs ?? '?'} ms. ` +
    'Details: predict.json';
  const lines = existing.split('\n');
  const at = lines.findIndex((l) => l.startsWith('- **predict**'));
  if (at >= 0) lines[at] = line;
  else lines.splice(lines.length - (lines.at(-1) === '' ? 1 : 0), 0, line);
  writeFileSync(file, lines.join('\n').replace(/\n*$/, '\n'));
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

export function packageVersion(name: string): string {
  const file = join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export async function stopAll(): Promise<void> {
  await Promise.all(started.map((child) => killGroup(child)));
}

// Run as a script (`npm run bench:predict`), not when bench/predict-mixed.ts imports the helpers.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  main()
    .then(stopAll)
    .catch(async (error: unknown) => {
      await stopAll();
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });

/**
 * `npm run bench:predict`: throughput and latency of the predict API (`npm run serve`, the
 * Lambda handler behind the API Gateway adapter) against `mlflow models serve` on the same
 * registered model, and against a bare Node HTTP server answering a constant JSON (the ceiling
 * any handler on this machine could reach). Same payloads (1 row, 100 rows), same concurrency,
 * same load generator (autocannon), one server at a time. Also measures our cold start
 * (process start to first prediction) and how long a model swap takes.
 *
 * Writes bench/results/predict.json and a line in bench/results/README.md.
 *   BENCH_DURATION_S (default 10), BENCH_CONNECTIONS (default 16)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ROOT, up } from '../localstack/services';
import {
  freePort,
  IRIS_COLUMNS,
  killGroup,
  pythonEnv,
  type RegisteredVersion,
  registerIrisModels,
  run,
  setAlias,
  sleep,
  VENV_BIN,
} from '../test/integration/predict-fixtures';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
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

interface Measurement {
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
  await setAlias(env.MLFLOW_TRACKING_URI, name, 'Production', v1.version);

  const payloads = { single: payload(1), batch100: payload(100) };

  log('starting ours: npm run serve');
  const oursPort = await freePort();
  const oursUrl = `http://127.0.0.1:${oursPort}`;
  const oursStart = performance.now();
  const ours = startProcess(join(ROOT, 'node_modules', '.bin', 'tsx'), ['localstack/serve.ts'], {
    ...process.env,
    PORT: String(oursPort),
    MODEL_NAME: name,
    ALIAS_TTL_SECONDS: '1',
    MAX_ROWS: '1000',
  });
  await firstPrediction(oursUrl, payloads.single, 60_000);
  const coldStartMs = performance.now() - oursStart;
  log(`ours answered its first prediction ${coldStartMs.toFixed(0)} ms after process start`);

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
  const ceiling = startProcess(process.execPath, ['-e', ceilingServer(ceilingPort, constant)], process.env);
  await firstPrediction(ceilingUrl, payloads.single, 10_000);

  const results: Record<string, Record<string, Measurement>> = {};
  for (const [label, body] of Object.entries(payloads)) {
    results[label] = {};
    for (const [target, url, server] of [
      ['ours', `${oursUrl}/predict`, ours],
      ['mlflow', `${mlflowUrl}/invocations`, mlflow],
      ['ceiling', `${ceilingUrl}/predict`, ceiling],
    ] as const) {
      await measure(url, body, WARM_UP_S, undefined); // JIT and caches warm, at the same concurrency
      const measurement = await measure(url, body, DURATION_S, server);
      log(
        `${label} ${target}: ${measurement.rps.toFixed(0)} req/s, p50 ${measurement.p50_ms} ms, p99 ${measurement.p99_ms} ms, ` +
          `${measurement.cpu_us_per_request} µs CPU/req, non-2xx ${measurement.non2xx}`,
      );
      results[label][target] = measurement;
    }
  }

  log('measuring a model swap (alias moved to a version not loaded yet)');
  const swap = await measureSwap(oursUrl, env.MLFLOW_TRACKING_URI, name, v2.version, payloads.single);

  const summary = (label: string) => {
    const r = results[label] as Record<'ours' | 'mlflow' | 'ceiling', Measurement>;
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
      targets_met: {
        ten_times_mlflow: r.ours.rps >= 10 * r.mlflow.rps,
        sixty_percent_of_ceiling: r.ours.rps >= 0.6 * r.ceiling.rps,
        p99_at_most_5ms: r.ours.p99_ms <= 5,
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
      connections: CONNECTIONS,
      duration_s: DURATION_S,
      payload_rows: { single: 1, batch100: 100 },
    },
    ...summary('single'),
    cold_start_ms: round(coldStartMs),
    mlflow_cold_start_ms: round(mlflowColdStartMs),
    swap_visible_ms: round(swap.visibleMs),
    swap_load_ms: swap.loadMs,
    alias_ttl_s: 1,
    batch100: summary('batch100'),
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

async function measure(
  url: string,
  body: string,
  durationS: number,
  server: ChildProcess | undefined,
): Promise<Measurement> {
  const cpuBefore = server?.pid ? groupCpuSeconds(server.pid) : 0;
  const raw = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
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

/** Moves the alias to a version the server has not loaded; the swap shows after the TTL plus the load. */
async function measureSwap(
  url: string,
  trackingUri: string,
  name: string,
  version: string,
  body: string,
): Promise<{ visibleMs: number; loadMs: number | null }> {
  await setAlias(trackingUri, name, 'Production', version);
  const start = performance.now();
  while (performance.now() - start < 30_000) {
    const answer = (await (await post(`${url}/predict`, body)).json()) as { model?: { version?: string } };
    if (answer.model?.version === version) {
      const status = (await (await fetch(`${url}/status`)).json()) as {
        aliases: { alias: string; last_load_ms: number | null }[];
      };
      const loadMs = status.aliases.find((alias) => alias.alias === 'Production')?.last_load_ms ?? null;
      return { visibleMs: performance.now() - start, loadMs };
    }
    await sleep(5);
  }
  throw new Error('the swap did not show within 30 s');
}

/** User + system CPU seconds of every process in a process group (the server and its workers). */
function groupCpuSeconds(groupId: number): number {
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

function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
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

async function firstPrediction(
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

function post(url: string, body: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

/** The ceiling: reads the body like any handler must, answers the same bytes every time. */
function ceilingServer(port: number, answer: string): string {
  return `
    const body = Buffer.from(${JSON.stringify(answer)});
    require('node:http').createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      });
    }).listen(${port}, '127.0.0.1');`;
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
    `Node server (${single.ceiling_rps}), p99 ${single.ours_p99_ms} ms; 100 rows ${batch.ours_rps} req/s = ${batch.ours_vs_mlflow}× mlflow, ` +
    `${(batch.ours_vs_ceiling * 100).toFixed(0)}% of ceiling; cold start ${coldStartMs} ms; model swap load ${swapLoadMs ?? '?'} ms. ` +
    'Details: predict.json';
  const lines = existing.split('\n');
  const at = lines.findIndex((l) => l.startsWith('- **predict**'));
  if (at >= 0) lines[at] = line;
  else lines.splice(lines.length - (lines.at(-1) === '' ? 1 : 0), 0, line);
  writeFileSync(file, lines.join('\n').replace(/\n*$/, '\n'));
}

function packageVersion(name: string): string {
  const file = join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function stopAll(): Promise<void> {
  await Promise.all(started.map((child) => killGroup(child)));
}

main()
  .then(stopAll)
  .catch(async (error: unknown) => {
    await stopAll();
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });

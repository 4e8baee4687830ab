/**
 * Drift benchmark: our drift core vs scipy (the same per-column statistics) and vs Evidently's
 * DataDriftPreset, in one run on the same data.
 *
 *   npx tsx bench/drift.ts            # 1,000,000 rows × 10 numeric columns
 *   DRIFT_BENCH_ROWS=100000 npx tsx bench/drift.ts
 *
 * The data are generated deterministically, written once as float64 .npy files (shape
 * (columns, rows), NaN for missing) that both sides read. Ours runs in a child Node process so
 * its peak RSS is its own; the anchors run in .local/bench-venv (created from
 * bench/requirements-bench.txt on first use, and again when that file changes).
 * Writes bench/results/drift.json and a line in bench/results/README.md.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Column, type Frame, numericColumn } from '../lambdas/core/data/frame';
import { computeDrift, type DriftResult, isColumnError } from '../lambdas/core/drift';
import { seededUniform } from '../lambdas/core/seeded-random';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VENV = path.join(ROOT, '.local', 'bench-venv');
const REQUIREMENTS = path.join(ROOT, 'bench', 'requirements-bench.txt');
const RESULTS = path.join(ROOT, 'bench', 'results');
const STATISTICS = ['ks_statistic', 'ks_pvalue', 'psi', 'wasserstein', 'wasserstein_normed'] as const;
type Statistic = (typeof STATISTICS)[number];

// ---------------------------------------------------------------- data

function normal(next: () => number): number {
  // Box–Muller; 1 - u keeps the log argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

interface ColumnSpec {
  readonly name: string;
  /** One value for the reference (current = false) or current window (current = true). */
  readonly draw: (next: () => number, current: boolean) => number;
}

/** Ten columns: no drift, small shifts, large shifts, ties, skew, missing values, a changed mixture. */
const COLUMNS: readonly ColumnSpec[] = [
  { name: 'normal_stable', draw: (r) => normal(r) },
  { name: 'normal_small_shift', draw: (r, c) => normal(r) + (c ? 0.05 : 0) },
  { name: 'normal_large_shift', draw: (r, c) => normal(r) + (c ? 0.3 : 0) },
  { name: 'lognormal', draw: (r, c) => Math.exp(0.5 * normal(r) + (c ? 0.02 : 0)) },
  { name: 'uniform_shift', draw: (r, c) => 10 * r() + (c ? 0.5 : 0) },
  { name: 'exponential_rate', draw: (r, c) => -Math.log(1 - r()) / (c ? 1.1 : 1) },
  { name: 'normal_scale', draw: (r, c) => 5 + (c ? 2.6 : 2) * normal(r) },
  { name: 'rounded_ties', draw: (r, c) => Math.round(50 + 10 * normal(r) + (c ? 0.5 : 0)) },
  { name: 'with_missing', draw: (r, c) => (r() < (c ? 0.03 : 0.01) ? Number.NaN : normal(r)) },
  { name: 'bimodal_weights', draw: (r, c) => (r() < (c ? 0.4 : 0.3) ? 4 + normal(r) : normal(r)) },
];

/** numpy's .npy v1.0 format: magic, header dict padded to a multiple of 64 bytes, raw data. */
function writeNpy(file: string, columns: readonly Float64Array[], rows: number): void {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${columns.length}, ${rows}), }`;
  const preamble = 10;
  header = `${header}${' '.repeat((64 - ((preamble + header.length + 1) % 64)) % 64)}\n`;
  const head = Buffer.alloc(preamble + header.length);
  head.write('\x93NUMPY', 0, 'latin1');
  head.writeUInt8(1, 6);
  head.writeUInt8(0, 7);
  head.writeUInt16LE(header.length, 8);
  head.write(header, preamble, 'latin1');
  const body = Buffer.alloc(columns.length * rows * 8);
  columns.forEach((column, i) => {
    body.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), i * rows * 8);
  });
  writeFileSync(file, Buffer.concat([head, body]));
}

/** Reads a float64 .npy straight into one Float64Array (no second copy, so RSS is the data's). */
function readNpy(file: string): { columns: Float64Array[]; rows: number } {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(10);
    readSync(fd, head, 0, 10, 0);
    const headerLength = head.readUInt16LE(8);
    const headerBytes = Buffer.alloc(headerLength);
    readSync(fd, headerBytes, 0, headerLength, 10);
    const header = headerBytes.toString('latin1');
    const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
    if (!shape || !header.includes("'<f8'")) throw new Error(`${file}: not a float64 2-D .npy file`);
    const [count, rows] = [Number(shape[1]), Number(shape[2])];
    const data = new Float64Array(count * rows);
    const bytes = new Uint8Array(data.buffer);
    for (let done = 0; done < bytes.length; ) {
      const read = readSync(
        fd,
        bytes,
        done,
        Math.min(bytes.length - done, 2 ** 30),
        10 + headerLength + done,
      );
      if (read === 0) throw new Error(`${file}: truncated`);
      done += read;
    }
    return {
      columns: Array.from({ length: count }, (_, i) => data.subarray(i * rows, (i + 1) * rows)),
      rows,
    };
  } finally {
    closeSync(fd);
  }
}

function generate(dir: string, rows: number): void {
  for (const [file, current, seed] of [
    ['reference.npy', false, 1],
    ['current.npy', true, 2],
  ] as const) {
    const columns = COLUMNS.map((spec, i) => {
      // Seeded, so both runs of the bench see the same data.
      const next = seededUniform(seed * 1000 + i);
      const values = new Float64Array(rows);
      for (let k = 0; k < rows; k++) values[k] = spec.draw(next, current);
      return values;
    });
    writeNpy(path.join(dir, file), columns, rows);
  }
  writeFileSync(path.join(dir, 'columns.json'), JSON.stringify(COLUMNS.map((c) => c.name)));
}

// ---------------------------------------------------------------- ours (child process)

interface WorkerOutput {
  readonly ours_s: number;
  readonly ours_first_s: number;
  readonly ours_data_rss_mb: number;
  readonly ours_peak_rss_mb: number;
  readonly result: DriftResult;
}

function frameOf(names: readonly string[], columns: readonly Float64Array[], rows: number): Frame {
  const map = new Map<string, Column>();
  names.forEach((name, i) => {
    map.set(name, numericColumn(columns[i] as Float64Array));
  });
  return { rowCount: rows, columns: map };
}

function worker(dir: string): void {
  const names = JSON.parse(readFileSync(path.join(dir, 'columns.json'), 'utf8')) as string[];
  const ref = readNpy(path.join(dir, 'reference.npy'));
  const cur = readNpy(path.join(dir, 'current.npy'));
  const reference = frameOf(names, ref.columns, ref.rows);
  const current = frameOf(names, cur.columns, cur.rows);
  const dataRss = process.memoryUsage().rss;
  const times: number[] = [];
  let result: DriftResult | undefined;
  for (let run = 0; run < 2; run++) {
    const started = performance.now();
    result = computeDrift(reference, current);
    times.push((performance.now() - started) / 1000);
  }
  const output: WorkerOutput = {
    ours_s: Math.min(...times),
    ours_first_s: times[0] as number,
    ours_data_rss_mb: dataRss / 2 ** 20,
    ours_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    result: result as DriftResult,
  };
  process.stdout.write(JSON.stringify(output));
}

// ---------------------------------------------------------------- anchors

function ensureBenchVenv(): string {
  const python = path.join(VENV, 'bin', 'python');
  const digest = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  const stamp = path.join(VENV, '.requirements.sha256');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return python;
  console.log(`installing ${path.relative(ROOT, REQUIREMENTS)} into ${path.relative(ROOT, VENV)} …`);
  if (!existsSync(python)) run('python3', ['-m', 'venv', VENV]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS]);
  writeFileSync(stamp, `${digest}\n`);
  return python;
}

function run(command: string, args: readonly string[]): string {
  const out = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (out.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${out.status}):\n${out.stderr || out.error?.message}`,
    );
  }
  return out.stdout;
}

interface AnchorOutput {
  readonly scipy_s: number;
  readonly evidently_s: number;
  readonly scipy: Record<string, Record<Statistic, number>>;
  readonly evidently: {
    readonly columns: Record<string, { method: string; threshold: number; value: number }>;
    readonly share_drifted: number;
  };
  readonly versions: Record<string, string>;
}

// ---------------------------------------------------------------- compare and report

function compare(ours: DriftResult, anchor: AnchorOutput) {
  const maxAbs = Object.fromEntries(STATISTICS.map((s) => [s, 0])) as Record<Statistic, number>;
  const maxRel = Object.fromEntries(STATISTICS.map((s) => [s, 0])) as Record<Statistic, number>;
  let maxEvidentlyDiff = 0;
  let flagsEqual = true;
  for (const [name, theirs] of Object.entries(anchor.scipy)) {
    const column = ours.columns[name];
    if (!column || isColumnError(column) || column.kind !== 'numeric')
      throw new Error(`${name}: no numeric result`);
    for (const s of STATISTICS) {
      const diff = Math.abs(column[s] - theirs[s]);
      maxAbs[s] = Math.max(maxAbs[s], diff);
      // Relative differences of p-values below 1e-300 say nothing (subnormal range).
      if (Math.abs(theirs[s]) > 1e-300) maxRel[s] = Math.max(maxRel[s], diff / Math.abs(theirs[s]));
    }
    const ev = anchor.evidently.columns[name];
    if (ev) {
      maxEvidentlyDiff = Math.max(maxEvidentlyDiff, Math.abs(column.test_value - ev.value));
      if (column.drifted !== ev.value >= ev.threshold) flagsEqual = false;
    }
  }
  return { maxAbs, maxRel, maxEvidentlyDiff, flagsEqual };
}

function updateReadme(line: string): void {
  const file = path.join(RESULTS, 'README.md');
  const marker = '- **drift**';
  const existing = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmark results\n\nOne line per benchmark (latest run); details in the JSON files beside this one.\n\n';
  const lines = existing.split('\n').filter((l) => !l.startsWith(marker));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  writeFileSync(file, `${lines.join('\n')}\n${line}\n`);
}

function round(value: number, digits = 3): number {
  return Number(value.toPrecision(digits));
}

async function main(): Promise<void> {
  const rows = Number(process.env.DRIFT_BENCH_ROWS ?? 1_000_000);
  if (!Number.isInteger(rows) || rows < 2)
    throw new Error(`DRIFT_BENCH_ROWS must be an integer ≥ 2 (got ${rows})`);
  const python = ensureBenchVenv();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drift-bench-'));
  try {
    console.log(`generating ${rows} rows × ${COLUMNS.length} columns in ${dir} …`);
    generate(dir, rows);

    console.log('ours …');
    const ours = JSON.parse(
      run(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', dir]),
    ) as WorkerOutput;
    console.log(`  ${ours.ours_s.toFixed(3)} s (first run ${ours.ours_first_s.toFixed(3)} s)`);

    console.log('scipy and evidently …');
    const anchorFile = path.join(dir, 'anchor.json');
    run(python, [path.join(ROOT, 'bench', 'drift_anchor.py'), dir, anchorFile]);
    const anchor = JSON.parse(readFileSync(anchorFile, 'utf8')) as AnchorOutput;
    console.log(`  scipy ${anchor.scipy_s.toFixed(3)} s, evidently ${anchor.evidently_s.toFixed(3)} s`);

    const { maxAbs, maxRel, maxEvidentlyDiff, flagsEqual } = compare(ours.result, anchor);
    const ratioToScipy = ours.ours_s / anchor.scipy_s;
    const speedupVsEvidently = anchor.evidently_s / ours.ours_s;
    const cpus = os.cpus();
    const results = {
      benchmark: 'drift',
      date: new Date().toISOString(),
      machine: {
        cpu: cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        memory_gb: round(os.totalmem() / 2 ** 30),
        platform: `${os.platform()} ${os.release()}`,
      },
      data: { rows, columns: COLUMNS.length, format: 'float64 .npy, shape (columns, rows), NaN = missing' },
      ours_s: round(ours.ours_s, 4),
      ours_first_run_s: round(ours.ours_first_s, 4),
      scipy_s: round(anchor.scipy_s, 4),
      evidently_s: round(anchor.evidently_s, 4),
      ratio_ours_to_scipy: round(ratioToScipy),
      speedup_vs_evidently: round(speedupVsEvidently),
      ours_peak_rss_mb: round(ours.ours_peak_rss_mb, 4),
      ours_rss_with_data_loaded_mb: round(ours.ours_data_rss_mb, 4),
      max_abs_diff_vs_scipy: maxAbs,
      max_rel_diff_vs_scipy: maxRel,
      evidently: {
        max_abs_diff_drift_score: maxEvidentlyDiff,
        drift_flags_equal: flagsEqual,
        share_drifted: anchor.evidently.share_drifted,
        ours_share_drifted: ours.result.share_drifted,
      },
      targets: {
        within_2x_of_scipy: ratioToScipy <= 2,
        at_least_10x_faster_than_evidently: speedupVsEvidently >= 10,
      },
      what_is_timed: {
        ours: 'computeDrift on in-memory frames: per column KS (statistic + p-value), PSI, Wasserstein, normed Wasserstein, decision; best of 2 runs',
        scipy:
          'per column ks_2samp, wasserstein_distance, np.std and numpy PSI over reference-quantile bins; one run',
        evidently: 'Report([DataDriftPreset()]).run on pandas DataFrames; one run',
      },
      versions: { node: process.version, ...anchor.versions },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'drift.json'), `${JSON.stringify(results, null, 2)}\n`);
    updateReadme(
      `- **drift** (${results.date.slice(0, 10)}, ${rows} rows × ${COLUMNS.length} columns): ours ${results.ours_s} s, ` +
        `scipy ${results.scipy_s} s (ours/scipy ${results.ratio_ours_to_scipy}×), Evidently ${results.evidently_s} s ` +
        `(${results.speedup_vs_evidently}× faster), peak RSS ${Math.round(results.ours_peak_rss_mb)} MB; ` +
        `max |Δ| vs scipy: KS D ${maxAbs.ks_statistic.toExponential(1)}, KS p ${maxAbs.ks_pvalue.toExponential(1)}, ` +
        `W ${maxAbs.wasserstein.toExponential(1)}, PSI ${maxAbs.psi.toExponential(1)}. Details: drift.json`,
    );
    console.log(JSON.stringify(results, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--worker') worker(process.argv[3] as string);
else await main();

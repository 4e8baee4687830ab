/**
 * Every Lambda function the stack defines, bundled as `cdk synth` bundles it: esbuild with the
 * function's own entry and BundlingOptions (`MlopsFunction.entry` / `.bundling`, what lib/ hands
 * NodejsFunction). The CDK specs skip bundling (test/support/cdk-stage.ts), which once let
 * onnxruntime-node's native binary into every step's bundle: `cdk synth` failed with `No loader is
 * configured for ".node" files` (issue #6) while every test passed.
 *
 * Functions with the same options are bundled in one esbuild call (each entry still gets its own,
 * independent output: no code splitting), so the shared dependencies are parsed once. Each bundle
 * is then written to a directory of its own, with only what its layers provide beside it, and
 * imported by a fresh Node process. Last, one full synthesis with bundling on, as `cdk synth` does.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { type BundlingOptions, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type BuildOptions, build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStageConfig } from '../../lib/config';
import { MlopsFunction, PROJECT_ROOT } from '../../lib/mlops-function';
import { MlopsStack } from '../../lib/mlops-stack';
import { OnnxRuntimeLayer } from '../../lib/onnxruntime-layer';
import { synthStage } from '../support/cdk-stage';

/** What the onnxruntime layer provides (lib/onnxruntime-layer.ts, `nodejs/node_modules/`). */
const ONNX_PACKAGE = 'onnxruntime-node';
/** Far above today's ≈1.4 MB at most: a bundle past it has pulled in something it should not. */
const MAX_BUNDLE_BYTES = 5 * 1024 * 1024;

interface LambdaFunction {
  /** The construct path below the stack, e.g. `Pipelines/IngestData`. */
  readonly id: string;
  readonly entry: string;
  readonly bundling: BundlingOptions;
  /** Whether the function gets the onnxruntime layer. */
  readonly onnxLayer: boolean;
}

interface Bundle extends LambdaFunction {
  readonly code?: Uint8Array;
  readonly sourceMap?: Uint8Array;
  /** The source files in the bundle, relative to the repository root. */
  readonly inputs: readonly string[];
  /** The packages the bundle still imports at run time (Node's own modules aside). */
  readonly imports: readonly string[];
  readonly error?: string;
}

/** The BundlingOptions keys mapped below; another one in lib/ fails the build until it is mapped too. */
const MAPPED = new Set([
  'format',
  'target',
  'minify',
  'sourceMap',
  'sourcesContent',
  'mainFields',
  'banner',
  'externalModules',
]);

/** NodejsFunction's esbuild call (aws-lambda-nodejs `Bundling.createBundlingCommand`), as JS API options. */
function esbuildOptionsOf(entries: readonly string[], bundling: BundlingOptions): BuildOptions {
  const unmapped = Object.keys(bundling).filter((key) => !MAPPED.has(key));
  if (unmapped.length > 0) {
    throw new Error(`bundling.test.ts does not map BundlingOptions.${unmapped.join(', .')} yet`);
  }
  if (!bundling.externalModules) {
    // NodejsFunction would then leave out @aws-sdk/* by default; MlopsFunction always says.
    throw new Error('MlopsFunction.bundling.externalModules must be set');
  }
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [...entries],
    bundle: true,
    platform: 'node',
    target: bundling.target,
    format: bundling.format,
    // NodejsFunction writes index.mjs for ESM; nothing is written here (write: false).
    outdir: join(PROJECT_ROOT, '.bundles'),
    outExtension: { '.js': bundling.format === 'esm' ? '.mjs' : '.js' },
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    external: bundling.externalModules,
    mainFields: bundling.mainFields,
    ...(bundling.banner !== undefined && { banner: { js: bundling.banner } }),
    write: false,
    metafile: true,
    logLevel: 'silent',
  };
}

/** Bundles functions that share their options; on failure, each alone, so the error names its function. */
async function bundleGroup(functions: readonly LambdaFunction[]): Promise<Bundle[]> {
  const options = esbuildOptionsOf(
    functions.map((fn) => fn.entry),
    functions[0]?.bundling ?? {},
  );
  try {
    const result = await build(options);
    const files = new Map((result.outputFiles ?? []).map((file) => [file.path, file.contents]));
    const outputs = Object.entries(result.metafile?.outputs ?? {});
    return functions.map((fn) => {
      const [path, output] = outputs.find(([, o]) => o.entryPoint === fn.entry) ?? [];
      if (!path || !output) return { ...fn, inputs: [], imports: [], error: 'no output for the entry' };
      const imports = output.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path);
      return {
        ...fn,
        code: files.get(join(PROJECT_ROOT, path)),
        sourceMap: files.get(join(PROJECT_ROOT, `${path}.map`)),
        inputs: Object.keys(output.inputs),
        imports: [...new Set(imports)].sort(),
      };
    });
  } catch (error) {
    if (functions.length > 1) return (await Promise.all(functions.map((fn) => bundleGroup([fn])))).flat();
    const message = error instanceof Error ? error.message : String(error);
    return functions.map((fn) => ({ ...fn, inputs: [], imports: [], error: message }));
  }
}

const execFileAsync = promisify(execFile);

/**
 * Writes the bundle where nothing but its layers' packages can be found (a Lambda's /var/task and
 * /opt/nodejs/node_modules) and imports it in a fresh Node process; resolves to the error, if any.
 */
async function importInIsolation(bundle: Bundle, root: string): Promise<string | undefined> {
  const dir = join(root, bundle.id.replaceAll('/', '-'));
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  writeFileSync(join(dir, 'index.mjs'), bundle.code ?? '');
  if (bundle.sourceMap) writeFileSync(join(dir, 'index.mjs.map'), bundle.sourceMap);
  if (bundle.onnxLayer) {
    symlinkSync(join(PROJECT_ROOT, 'node_modules', ONNX_PACKAGE), join(dir, 'node_modules', ONNX_PACKAGE));
  }
  const url = pathToFileURL(join(dir, 'index.mjs')).href;
  const script = `const m = await import(${JSON.stringify(url)});
if (typeof m.handler !== 'function') throw new Error('exports no handler function');
process.exit(0);`;
  try {
    await execFileAsync(process.execPath, ['--input-type=module', '--eval', script], {
      cwd: dir,
      timeout: 30_000,
      // What the handlers read at import (the predict function loads its config at cold start);
      // MLflow is never reached: the process ends once the module has loaded.
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        MLFLOW_TRACKING_URI: 'http://127.0.0.1:9',
        MODEL_NAME: 'bundling-test',
        SERVING_BUCKET: 'bundling-test-serving',
        MLFLOW_WEBHOOK_SECRET: 'bundling-test',
      },
    });
    return undefined;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    const lines = (stderr || message).trim().split('\n');
    return lines.find((line) => /Error/.test(line)) ?? lines[0];
  }
}

/** The stack's functions, as lib/ defines them. */
function lambdaFunctions(stack: Stack): LambdaFunction[] {
  const constructs = stack.node.findAll();
  const onnxLayers = new Set<unknown>(
    constructs.filter((c): c is OnnxRuntimeLayer => c instanceof OnnxRuntimeLayer).map((c) => c.layer),
  );
  return constructs
    .filter((c): c is MlopsFunction => c instanceof MlopsFunction)
    .map((fn) => ({
      id: fn.node.path.split('/').slice(1).join('/'),
      entry: relative(PROJECT_ROOT, fn.entry),
      bundling: fn.bundling,
      onnxLayer: fn.layers.some((layer) => onnxLayers.has(layer)),
    }));
}

describe('the Lambda bundles', () => {
  let bundles: Bundle[];
  let workDir: string;

  beforeAll(async () => {
    const functions = lambdaFunctions(synthStage('dev').stack);
    const groups = new Map<string, LambdaFunction[]>();
    for (const fn of functions) {
      const key = JSON.stringify(fn.bundling);
      groups.set(key, [...(groups.get(key) ?? []), fn]);
    }
    bundles = (await Promise.all([...groups.values()].map(bundleGroup))).flat();
    workDir = mkdtempSync(join(tmpdir(), 'lambda-bundles-'));
    const size = (b: Bundle) => (b.code ? `${(b.code.length / 1024 / 1024).toFixed(2)} MB` : 'FAILED');
    const rows = bundles.map(
      (b) => `  ${b.id.padEnd(36)} ${size(b).padStart(7)}${b.onnxLayer ? '  + onnxruntime layer' : ''}`,
    );
    console.log(`Lambda bundles (${bundles.length}):\n${rows.join('\n')}`);
  }, 60_000);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('covers every step function, the predict API, the health check, the MLflow database upgrade and serving sync', () => {
    const { stack } = synthStage('dev');
    // + the predict API, the health check and the database upgrade's onEvent and isComplete.
    // + serving sync's webhook receiver, reconciler and webhook registration.
    expect(bundles).toHaveLength(Object.keys(stack.pipelines.functions).length + 4 + 3);
    // Every NodejsFunction of the stack is an MlopsFunction's, so none is left out above.
    const nodejsFunctions = stack.node.findAll().filter((c) => c instanceof NodejsFunction);
    expect(nodejsFunctions.filter((c) => !(c.node.scope instanceof MlopsFunction))).toEqual([]);
    expect(bundles.map((b) => b.entry)).toEqual(
      expect.arrayContaining([
        'lambdas/predict/handler.ts',
        'lambdas/canary/health-check.ts',
        'lambdas/steps/handlers/ingest-data.ts',
        'lambdas/steps/handlers/evaluate-candidate.ts',
        'lambdas/mlflow-upgrade/on-event.ts',
        'lambdas/mlflow-upgrade/is-complete.ts',
      ]),
    );
  });

  it('builds every function with its own bundling options', () => {
    const failures = Object.fromEntries(bundles.filter((b) => b.error).map((b) => [b.id, b.error]));
    expect(failures).toEqual({});
  });

  it('leaves onnxruntime-node out exactly for the functions that get the onnxruntime layer, and they import it', () => {
    const expected = (b: Bundle) => (b.onnxLayer ? [ONNX_PACKAGE] : []);
    expect(bundles.map((b) => ({ id: b.id, externals: b.bundling.externalModules }))).toEqual(
      bundles.map((b) => ({ id: b.id, externals: expected(b) })),
    );
    // Everything else is in the bundle: nothing the Lambda would have to find at run time.
    expect(bundles.map((b) => ({ id: b.id, imports: b.imports }))).toEqual(
      bundles.map((b) => ({ id: b.id, imports: expected(b) })),
    );
    expect(bundles.filter((b) => b.onnxLayer).map((b) => b.id)).toEqual([
      'PredictApi/Handler',
      'Pipelines/EvaluateCandidate',
      'Pipelines/PromoteModel',
      'Pipelines/PredictBatch',
    ]);
  });

  it('puts no native .node file and nothing of onnxruntime in any bundle', () => {
    const native = bundles.flatMap((b) =>
      b.inputs.filter((path) => path.endsWith('.node') || /node_modules\/onnxruntime-/.test(path)),
    );
    expect(native).toEqual([]);
  });

  it(`keeps every bundle under ${MAX_BUNDLE_BYTES / 1024 / 1024} MB`, () => {
    const tooLarge = bundles
      .filter((b) => (b.code?.length ?? 0) > MAX_BUNDLE_BYTES)
      .map((b) => `${b.id}: ${b.code?.length} bytes`);
    expect(tooLarge).toEqual([]);
    // An entry that bundled nothing is a few hundred bytes; the smallest real one (select-best) is ~3 KB.
    expect(bundles.filter((b) => (b.code?.length ?? 0) < 1_500).map((b) => b.id)).toEqual([]);
  });

  it('loads every bundle in Node with nothing beside it but its layers', async () => {
    const built = bundles.filter((b) => b.code);
    const errors = await Promise.all(built.map((b) => importInIsolation(b, workDir)));
    const failures = Object.fromEntries(
      built.flatMap((b, i) => (errors[i] === undefined ? [] : [[b.id, errors[i]]])),
    );
    expect(failures).toEqual({});
  });
});

describe('cdk synth with bundling', () => {
  it('synthesizes MlopsStack-dev with every function bundled by NodejsFunction', () => {
    const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    // Unlike the fixture, no `aws:cdk:bundling-stacks`: every asset is bundled, as by `cdk synth`.
    const context: Record<string, unknown> = { ...cdkJson.context, stage: 'dev' };
    const config = loadStageConfig((key) => context[key]);
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-bundled-'));
    try {
      const app = new App({ context, outdir });
      const stack = new MlopsStack(app, 'MlopsStack-dev', { config, env: { region: config.region } });
      const template = app.synth().getStackByName(stack.artifactId).template as {
        Resources: Record<string, { Properties: { Code?: { S3Key?: unknown } } }>;
      };
      const functions = stack.node.findAll().filter((c) => c instanceof MlopsFunction);
      // Each function's code is the asset `<hash>.zip`, staged in the cloud assembly as asset.<hash>/.
      const unbundled = functions.flatMap((fn) => {
        const logicalId = stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
        const key = template.Resources[logicalId]?.Properties.Code?.S3Key;
        const hash = typeof key === 'string' ? key.replace(/\.zip$/, '') : '';
        return existsSync(join(outdir, `asset.${hash}`, 'index.mjs')) ? [] : [fn.node.path];
      });
      // + the predict API, the health check, the database upgrade's onEvent and isComplete, and
      // serving sync's webhook receiver, reconciler and webhook registration.
      expect(functions).toHaveLength(Object.keys(stack.pipelines.functions).length + 4 + 3);
      expect(unbundled).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});

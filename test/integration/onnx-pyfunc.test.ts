/**
 * The model-artifact contract across languages: a directory the TypeScript writer produces loads
 * with `mlflow.pyfunc.load_model` and predicts what onnxruntime-node predicts; a directory Python
 * saves with `mlflow.onnx.save_model` is readable by `readModelDirectory` and servable by
 * onnxruntime-node.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ModelDirectory,
  readModelDirectory,
  readModelFiles,
  writeModelDirectory,
} from '../../lambdas/core/model-format';
import { inspectOnnx } from '../../lambdas/core/onnx';
import type { FittedModel, LinearModel, TreeEnsembleModel } from '../../lambdas/core/training/model-types';

const PYTHON = resolve('localstack/.venv/bin/python');

/** Runs the job in one Python process: importing mlflow costs seconds, so it is done once. */
const PYTHON_SCRIPT = `
import json, logging, sys
logging.disable(logging.WARNING)  # mlflow warns about the missing CUDA provider and pip inference
import numpy as np, pandas as pd
import onnx
from onnx import TensorProto, helper, numpy_helper
import mlflow.onnx, mlflow.pyfunc
from mlflow.models import infer_signature

job = json.load(open(sys.argv[1]))
result = {"ours": {}, "python": {}}

for name, spec in job["ours"].items():
    mlflow.onnx.load_model(spec["dir"])  # runs onnx.checker.check_model on our bytes
    model = mlflow.pyfunc.load_model(spec["dir"])
    frame = pd.DataFrame(spec["rows"], columns=spec["columns"], dtype="float64")
    prediction = model.predict(frame)
    result["ours"][name] = {key: np.asarray(value).tolist() for key, value in prediction.items()}

rng = np.random.default_rng(7)
requirements = ["onnx", "onnxruntime"]  # given, so save_model skips its slow dependency inference

# A wide regression as a Python user would log it: input "X", a column signature, and weights
# over 1 KB, which save_model stores as external data by default.
weights = rng.normal(size=(300, 1)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["X", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
    "wide",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", 300])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
    initializer=[numpy_helper.from_array(weights, "W"), numpy_helper.from_array(np.array([0.5], np.float32), "b")],
)
wide = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
wide.ir_version = 8
columns = [f"f{i}" for i in range(300)]
frame = pd.DataFrame(rng.normal(size=(6, 300)).astype(np.float32).astype(np.float64), columns=columns)
mlflow.onnx.save_model(
    wide, job["python"]["wide"], signature=infer_signature(frame), input_example=frame.iloc[:2],
    pip_requirements=requirements,
)
predicted = mlflow.pyfunc.load_model(job["python"]["wide"]).predict(frame)
result["python"]["wide"] = {"rows": frame.values.tolist(), "y": predicted["y"].tolist()}

# A classifier in skl2onnx's shape: input "float_input", int64 labels, a ZipMap output, no signature.
classifier = helper.make_model(
    helper.make_graph(
        [
            helper.make_node(
                "LinearClassifier", ["float_input"], ["output_label", "probability_tensor"], domain="ai.onnx.ml",
                coefficients=[1.0, -1.0, -0.5, 0.5, 0.2, 0.3], intercepts=[0.1, -0.2, 0.0],
                classlabels_ints=[10, 20, 30], post_transform="SOFTMAX",
            ),
            helper.make_node(
                "ZipMap", ["probability_tensor"], ["output_probability"], domain="ai.onnx.ml",
                classlabels_int64s=[10, 20, 30],
            ),
        ],
        "skl2onnx_like",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, 2])],
        [
            helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
            helper.make_value_info(
                "output_probability",
                helper.make_sequence_type_proto(
                    helper.make_map_type_proto(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, []))
                ),
            ),
        ],
    ),
    opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)],
)
classifier.ir_version = 8
mlflow.onnx.save_model(classifier, job["python"]["zipmap"], pip_requirements=requirements)
rows = rng.normal(size=(8, 2)).astype(np.float32)
predicted = mlflow.pyfunc.load_model(job["python"]["zipmap"]).predict(rows)
result["python"]["zipmap"] = {"rows": rows.astype(np.float64).tolist(), "labels": predicted["output_label"].tolist()}

print(json.dumps(result))
`;

interface PythonResult {
  ours: Record<string, { label?: string[]; probabilities?: number[][]; variable?: number[][] }>;
  python: {
    wide: { rows: number[][]; y: number[][] | number[] };
    zipmap: { rows: number[][]; labels: number[] };
  };
}

const multiclass: LinearModel = {
  kind: 'linear',
  task: 'classification',
  features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  classes: ['setosa', 'versicolor', 'virginica'],
  scaler: { mean: [5.8, 3.0, 3.7, 1.2], scale: [0.8, 0.4, 1.7, 0.75] },
  coefficients: [
    [-1.0, 1.2, -1.8, -1.7],
    [0.5, -0.3, -0.2, -0.6],
    [0.5, -0.9, 2.0, 2.3],
  ],
  intercepts: [-0.2, 1.9, -1.7],
  link: 'softmax',
};

const binaryForest: TreeEnsembleModel = {
  kind: 'trees',
  task: 'classification',
  features: ['amount', 'hour'],
  classes: ['legit', 'fraud'],
  trees: [
    {
      feature: [0, 0, 0],
      threshold: [0.5, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [[], [0.9, 0.1], [0.25, 0.75]],
    },
    {
      feature: [1, 0, 0],
      threshold: [-0.25, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [[], [0.7, 0.3], [0.4, 0.6]],
    },
  ],
  aggregate: 'average',
  baseValues: [],
  postTransform: 'none',
};

const regressor: TreeEnsembleModel = {
  kind: 'trees',
  task: 'regression',
  features: ['rooms', 'age', 'distance'],
  trees: [
    {
      feature: [0, 1, 2, 0, 0, 0, 0],
      threshold: [0, -1, 1, 0, 0, 0, 0],
      left: [1, 3, 5, -1, -1, -1, -1],
      right: [2, 4, 6, -1, -1, -1, -1],
      value: [[], [], [], [100], [140], [210], [260]],
    },
    {
      feature: [2, 0, 0],
      threshold: [0.5, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [[], [-12.5], [30.25]],
    },
  ],
  aggregate: 'sum',
  baseValues: [7],
  postTransform: 'none',
};

const ours: Record<string, FittedModel> = { multiclass, binaryForest, regressor };

/** Float32-exact rows, so Python's float64 → float32 cast feeds onnxruntime the same values. */
function rowsFor(width: number, count: number): number[][] {
  return Array.from({ length: count }, (_, i) =>
    Array.from({ length: width }, (_, j) =>
      Math.fround(Math.sin(i * 7.3 + j * 1.9) * 2.5 + (j === 0 ? 0.3 : 0)),
    ),
  );
}

async function runSession(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
  outputNames?: readonly string[],
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await (outputNames ? session.run(feeds, outputNames) : session.run(feeds));
  } finally {
    await session.release();
  }
}

function rowsOf(tensor: ort.Tensor | undefined): number[][] {
  if (!tensor) throw new Error('missing output');
  const [count = 0, width = 1] = tensor.dims;
  const flat = Array.from(tensor.data as Float32Array);
  return Array.from({ length: count }, (_, i) => flat.slice(i * width, (i + 1) * width));
}

function maxRelativeDiff(actual: number[][], expected: number[][]): number {
  return Math.max(
    ...actual.flatMap((row, i) =>
      row.map((value, k) => {
        const reference = expected[i]?.[k] ?? Number.NaN;
        return Math.abs(value - reference) / Math.max(1, Math.abs(reference));
      }),
    ),
  );
}

describe('MLflow onnx-flavor directories across TypeScript and Python', () => {
  let root: string;
  let python: PythonResult;
  const rows: Record<string, number[][]> = {};
  let wide: ModelDirectory;
  let zipmap: ModelDirectory;
  let wideRawOnnx: Uint8Array | undefined;

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run npm run setup to create the venv`);
    root = await mkdtemp(join(tmpdir(), 'onnx-pyfunc-'));
    const job: { ours: Record<string, unknown>; python: Record<string, string> } = {
      ours: {},
      python: { wide: join(root, 'python-wide'), zipmap: join(root, 'python-zipmap') },
    };
    for (const [name, model] of Object.entries(ours)) {
      const dir = join(root, name);
      rows[name] = rowsFor(model.features.length, 40);
      await writeModelDirectory(dir, {
        model,
        inputExample: rows[name].slice(0, 3),
        dataContract: { fields: model.features.map((feature) => ({ name: feature, type: 'number' })) },
      });
      job.ours[name] = { dir, columns: model.features, rows: rows[name] };
    }
    const jobFile = join(root, 'job.json');
    const scriptFile = join(root, 'interop.py');
    await writeFile(jobFile, JSON.stringify(job));
    await writeFile(scriptFile, PYTHON_SCRIPT);

    const { stdout } = await promisify(execFile)(PYTHON, [scriptFile, jobFile], {
      timeout: 180_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    python = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as PythonResult;

    const wideFiles = await readModelFiles(job.python.wide as string);
    wideRawOnnx = wideFiles.get('model.onnx');
    wide = readModelDirectory(wideFiles);
    zipmap = readModelDirectory(await readModelFiles(job.python.zipmap as string));
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each(['multiclass', 'binaryForest'])(
    'pyfunc predicts the labels and probabilities onnxruntime-node does for our %s classifier',
    async (name) => {
      const model = ours[name] as FittedModel;
      const input = rows[name] as number[][];
      const directory = readModelDirectory(await readModelFiles(join(root, name)));

      const node = await runSession(directory.onnxBytes, {
        input: new ort.Tensor('float32', Float32Array.from(input.flat()), [
          input.length,
          model.features.length,
        ]),
      });
      const fromPython = python.ours[name];

      expect(fromPython?.label).toEqual(node.label?.data);
      expect(new Set(fromPython?.label).size).toBeGreaterThan(1);
      expect(
        maxRelativeDiff(rowsOf(node.probabilities), fromPython?.probabilities ?? []),
      ).toBeLessThanOrEqual(1e-5);
    },
  );

  it('pyfunc predicts the values onnxruntime-node does for our regressor', async () => {
    const input = rows.regressor as number[][];
    const directory = readModelDirectory(await readModelFiles(join(root, 'regressor')));

    const node = await runSession(directory.onnxBytes, {
      input: new ort.Tensor('float32', Float32Array.from(input.flat()), [input.length, 3]),
    });
    const values = rowsOf(node.variable);

    expect(maxRelativeDiff(values, python.ours.regressor?.variable ?? [])).toBeLessThanOrEqual(1e-5);
    expect(new Set(values.map((row) => row[0])).size).toBeGreaterThan(2);
  });

  it('reads a Python-saved model with a column signature and external weights, and serves it', async () => {
    const { rows: wideRows, y } = python.python.wide;

    const node = await runSession(wide.onnxBytes, {
      X: new ort.Tensor('float32', Float32Array.from(wideRows.flat()), [wideRows.length, 300]),
    });

    expect(inspectOnnx(wideRawOnnx ?? new Uint8Array()).externalDataFiles).toHaveLength(1);
    expect(wide.onnx.inputs).toEqual([
      { name: 'X', kind: 'tensor', elementType: 'float', shape: ['batch', 300] },
    ]);
    expect(wide.onnx.outputs.map((output) => output.name)).toEqual(['y']);
    expect(wide.featureNames).toEqual(Array.from({ length: 300 }, (_, i) => `f${i}`));
    expect(wide.signature?.inputs[0]).toEqual({ kind: 'column', name: 'f0', type: 'double', required: true });
    expect(wide.inputExample?.kind).toBe('dataframe');
    expect(wide.mlmodel.onnx.providers).toEqual(['CUDAExecutionProvider', 'CPUExecutionProvider']);
    const expected = (y as (number | number[])[]).map((value) => (Array.isArray(value) ? value : [value]));
    expect(maxRelativeDiff(rowsOf(node.y), expected)).toBeLessThanOrEqual(1e-5);
  });

  it('reads a Python-saved skl2onnx-style classifier without a signature and serves its labels', async () => {
    const { rows: zipRows, labels } = python.python.zipmap;

    const node = await runSession(
      zipmap.onnxBytes,
      { float_input: new ort.Tensor('float32', Float32Array.from(zipRows.flat()), [zipRows.length, 2]) },
      ['output_label'],
    );

    expect(zipmap.signature).toBeNull();
    expect(zipmap.featureNames).toBeNull();
    expect(zipmap.onnx.inputs.map((input) => [input.name, input.elementType])).toEqual([
      ['float_input', 'float'],
    ]);
    expect(zipmap.onnx.outputs.map((output) => [output.name, output.kind, output.elementType])).toEqual([
      ['output_label', 'tensor', 'int64'],
      ['output_probability', 'sequence', 'other'],
    ]);
    expect(Array.from(node.output_label?.data as BigInt64Array, Number)).toEqual(labels);
    expect(new Set(labels).size).toBeGreaterThan(1);
  });
});

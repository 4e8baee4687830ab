import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  buildModelDirectory,
  type MlModelDocument,
  type ModelFiles,
  ModelFormatError,
  parseMlModel,
  readModelDirectory,
  readModelFiles,
  serializeMlModel,
  signatureOf,
  writeModelDirectory,
} from '../../lambdas/core/model-format';
import { exportToOnnx } from '../../lambdas/core/onnx';
import type { LinearModel, TreeEnsembleModel } from '../../lambdas/core/training/model-types';

const classifier: LinearModel = {
  kind: 'linear',
  task: 'classification',
  features: ['sepal_length', 'sepal_width', 'petal_length'],
  classes: ['setosa', 'versicolor', 'virginica'],
  coefficients: [
    [0.4, 1.4, -2.2],
    [0.5, -1.6, 0.5],
    [-1.6, -1.4, 2.4],
  ],
  intercepts: [0.3, 1.0, -1.2],
  link: 'softmax',
};

const regressor: TreeEnsembleModel = {
  kind: 'trees',
  task: 'regression',
  features: ['rooms', 'age'],
  trees: [
    {
      feature: [0, 0, 0],
      threshold: [3, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [[], [150], [320]],
    },
  ],
  aggregate: 'sum',
  baseValues: [0],
  postTransform: 'none',
};

const contract = {
  name: 'iris',
  fields: [
    { name: 'sepal_length', type: 'number' },
    { name: 'sepal_width', type: 'number' },
    { name: 'petal_length', type: 'number' },
  ],
};

const createdAt = new Date('2026-01-02T03:04:05.678Z');

function classifierFiles(): ModelFiles {
  return buildModelDirectory({
    model: classifier,
    inputExample: [
      [5.1, 3.5, 1.4],
      [6.7, 3.0, Number.NaN],
    ],
    dataContract: contract,
    metadata: { dataset_version: 'sha256:abc', candidate: { algorithm: 'logreg', c: 1 } },
    runId: 'run-123',
    artifactPath: 'model',
    createdAt,
    modelUuid: '0123456789abcdef0123456789abcdef',
  });
}

function text(files: ModelFiles, path: string): string {
  return new TextDecoder().decode(files.get(path));
}

function withFile(files: ModelFiles, path: string, content: string | Uint8Array | undefined): ModelFiles {
  const copy = new Map(files);
  if (content === undefined) copy.delete(path);
  else copy.set(path, typeof content === 'string' ? new TextEncoder().encode(content) : content);
  return copy;
}

function readError(files: ModelFiles): ModelFormatError {
  try {
    readModelDirectory(files);
  } catch (error) {
    if (error instanceof ModelFormatError) return error;
    throw error;
  }
  throw new Error('the directory was read');
}

describe('buildModelDirectory', () => {
  it("lays the files out as mlflow.onnx's save_model does, plus the data contract", () => {
    const files = classifierFiles();

    expect([...files.keys()].sort()).toEqual([
      'MLmodel',
      'conda.yaml',
      'data_contract/input_schema.json',
      'input_example.json',
      'model.onnx',
      'python_env.yaml',
      'requirements.txt',
      'serving_input_example.json',
    ]);
    expect(files.get('model.onnx')).toEqual(exportToOnnx(classifier));
    expect(JSON.parse(text(files, 'data_contract/input_schema.json'))).toEqual(contract);
    expect(text(files, 'requirements.txt').split('\n')).toEqual([
      'mlflow==3.17.2',
      'onnx==1.23.2',
      'onnxruntime==1.31.1',
    ]);
  });

  it('writes the MLmodel keys MLflow 3 reads, with the pyfunc loader and the python_env', () => {
    const mlmodel = parseYaml(text(classifierFiles(), 'MLmodel'));

    expect(mlmodel.flavors).toEqual({
      onnx: {
        code: null,
        data: 'model.onnx',
        onnx_session_options: null,
        onnx_version: '1.23.2',
        providers: ['CPUExecutionProvider'],
      },
      python_function: {
        data: 'model.onnx',
        env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
        loader_module: 'mlflow.onnx',
        python_version: '3.11.7',
      },
    });
    expect(mlmodel.mlflow_version).toBe('3.17.2');
    expect(mlmodel.model_uuid).toBe('0123456789abcdef0123456789abcdef');
    expect(mlmodel.run_id).toBe('run-123');
    expect(mlmodel.utc_time_created).toBe('2026-01-02 03:04:05.678000');
    // A model fitted on a bare matrix: each feature a required double column (no imputer for a missing one).
    expect(JSON.parse(mlmodel.signature.inputs)).toEqual(
      classifier.features.map((name) => ({ type: 'double', name, required: true })),
    );
    expect(JSON.parse(mlmodel.signature.outputs)).toEqual([
      { type: 'string', name: 'label', required: true },
      ...(classifier.classes ?? []).map((name) => ({
        type: 'float',
        name: `probability_${name}`,
        required: true,
      })),
    ]);
    expect(mlmodel.saved_input_example_info).toEqual({
      artifact_path: 'input_example.json',
      pandas_orient: 'split',
      serving_input_path: 'serving_input_example.json',
      type: 'dataframe',
    });
  });

  it('quotes the creation time so YAML 1.1 readers (PyYAML) keep it a string', () => {
    expect(text(classifierFiles(), 'MLmodel')).toContain('utc_time_created: "2026-01-02 03:04:05.678000"');
  });

  it('writes the input example in split orient with missing values as null', () => {
    const files = classifierFiles();

    expect(JSON.parse(text(files, 'input_example.json'))).toEqual({
      columns: ['sepal_length', 'sepal_width', 'petal_length'],
      data: [
        [5.1, 3.5, 1.4],
        [6.7, 3.0, null],
      ],
    });
    expect(JSON.parse(text(files, 'serving_input_example.json')).dataframe_split.columns).toEqual(
      classifier.features,
    );
  });

  it('refuses ONNX bytes of another model, an example row of the wrong width and reserved metadata', () => {
    const attempts: [() => unknown, RegExp][] = [
      [
        () =>
          buildModelDirectory({
            model: classifier,
            onnxBytes: exportToOnnx(regressor),
            dataContract: contract,
          }),
        /onnxBytes takes rooms, age, the model's input columns are sepal_length, sepal_width, petal_length/,
      ],
      [
        () => buildModelDirectory({ model: classifier, inputExample: [[1, 2]], dataContract: contract }),
        /row 0 has 2 values/,
      ],
      [
        () =>
          buildModelDirectory({
            model: classifier,
            dataContract: contract,
            metadata: { feature_names: ['x'] },
          }),
        /reserved/,
      ],
    ];
    for (const [attempt, message] of attempts) {
      expect(attempt).toThrow(ModelFormatError);
      expect(attempt).toThrow(message);
    }
  });
});

describe('readModelDirectory', () => {
  it('reads back what the writer wrote', () => {
    const files = classifierFiles();

    const directory = readModelDirectory(files);

    expect(directory.signature).toEqual(signatureOf(classifier));
    expect(directory.featureNames).toEqual(classifier.features);
    expect(directory.inputExample).toEqual({
      kind: 'dataframe',
      columns: classifier.features,
      data: [
        [5.1, 3.5, 1.4],
        [6.7, 3.0, null],
      ],
    });
    expect(directory.dataContract).toEqual(contract);
    expect(directory.onnxBytes).toBe(files.get('model.onnx'));
    expect(directory.onnx.inputs.map((input) => input.name)).toEqual(classifier.features);
    expect(directory.onnx.outputs.map((output) => output.name)).toEqual([
      'label',
      ...(classifier.classes ?? []).map((name) => `probability_${name}`),
    ]);
    expect(directory.mlmodel).toMatchObject({
      runId: 'run-123',
      artifactPath: 'model',
      modelUuid: '0123456789abcdef0123456789abcdef',
      utcTimeCreated: '2026-01-02 03:04:05.678000',
      mlflowVersion: '3.17.2',
      flavorNames: ['onnx', 'python_function'],
      pythonFunction: {
        loaderModule: 'mlflow.onnx',
        env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
      },
      metadata: {
        dataset_version: 'sha256:abc',
        candidate: { algorithm: 'logreg', c: 1 },
        feature_names: classifier.features,
        class_labels: classifier.classes,
        task: 'classification',
        model_kind: 'linear',
      },
    });
  });

  it('round-trips an MLmodel document through YAML unchanged', () => {
    const document: MlModelDocument = {
      artifactPath: null,
      runId: null,
      modelId: 'm-42',
      mlflowVersion: '3.17.2',
      modelUuid: 'feedbeef',
      utcTimeCreated: '2026-05-06 07:08:09.000000',
      modelSizeBytes: 1234,
      onnx: {
        onnxVersion: '1.23.2',
        data: 'model.onnx',
        providers: ['CUDAExecutionProvider', 'CPUExecutionProvider'],
        onnxSessionOptions: { intra_op_num_threads: 1 },
        code: null,
      },
      pythonFunction: {
        loaderModule: 'mlflow.onnx',
        data: 'model.onnx',
        env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
        pythonVersion: '3.10',
        code: 'code',
      },
      flavorNames: ['onnx', 'python_function'],
      signature: {
        inputs: [
          { kind: 'column', name: 'yes', type: 'double', required: true },
          { kind: 'column', name: 'on', type: 'long', required: false },
        ],
        outputs: [{ kind: 'tensor', name: null, dtype: 'float32', shape: [-1, 1] }],
        params: null,
      },
      savedInputExampleInfo: null,
      metadata: null,
    };

    expect(parseMlModel(serializeMlModel(document))).toEqual(document);
  });

  it('reads a directory MLflow wrote for a model with a column signature', () => {
    // MLmodel as mlflow.onnx.save_model 3.17 writes it (CUDA listed first, no metadata).
    const mlmodel = [
      'flavors:',
      '  onnx:',
      '    code: null',
      '    data: model.onnx',
      '    onnx_session_options: null',
      '    onnx_version: 1.23.2',
      '    providers:',
      '    - CUDAExecutionProvider',
      '    - CPUExecutionProvider',
      '  python_function:',
      '    data: model.onnx',
      '    env:',
      '      conda: conda.yaml',
      '      virtualenv: python_env.yaml',
      '    loader_module: mlflow.onnx',
      '    python_version: 3.11.7',
      'mlflow_version: 3.17.2',
      'model_uuid: 8292520049de46f7b6e6c3e1f4ec9a23',
      'signature:',
      `  inputs: '[{"type": "double", "name": "rooms", "required": true}, {"type": "double",`,
      `    "name": "age", "required": true}]'`,
      '  outputs: null',
      '  params: null',
      "utc_time_created: '2026-11-23 08:37:19.427592'",
    ].join('\n');
    const files = new Map([
      ['MLmodel', new TextEncoder().encode(mlmodel)],
      ['model.onnx', exportToOnnx(regressor)],
    ]);

    const directory = readModelDirectory(files);

    expect(directory.featureNames).toEqual(['rooms', 'age']);
    expect(directory.signature?.inputs).toEqual([
      { kind: 'column', name: 'rooms', type: 'double', required: true },
      { kind: 'column', name: 'age', type: 'double', required: true },
    ]);
    expect(directory.mlmodel.onnx.providers).toEqual(['CUDAExecutionProvider', 'CPUExecutionProvider']);
    expect(directory.mlmodel.utcTimeCreated).toBe('2026-11-23 08:37:19.427592');
    expect(directory.inputExample).toBeNull();
    expect(directory.dataContract).toBeNull();
  });

  it('reads a bare MLmodel with only an onnx flavor, taking feature names from the ONNX metadata', () => {
    const files = new Map([
      ['MLmodel', new TextEncoder().encode('flavors:\n  onnx:\n    data: model.onnx\n')],
      ['model.onnx', exportToOnnx(regressor)],
    ]);

    const directory = readModelDirectory(files);

    expect(directory.signature).toBeNull();
    expect(directory.mlmodel.pythonFunction).toBeNull();
    expect(directory.mlmodel.onnx.providers).toEqual([]);
    expect(directory.featureNames).toEqual(['rooms', 'age']);
    expect(directory.onnx.outputs.map((output) => output.name)).toEqual(['prediction']);
  });

  it.each<[string, (files: ModelFiles) => ModelFiles, string, string, RegExp]>([
    ['no MLmodel', (files) => withFile(files, 'MLmodel', undefined), 'MISSING_FILE', 'MLmodel', /no MLmodel/],
    [
      'MLmodel that is not YAML',
      (files) => withFile(files, 'MLmodel', 'flavors: [unclosed'),
      'INVALID_MLMODEL',
      'MLmodel',
      /YAML/,
    ],
    [
      'MLmodel without flavors',
      (files) => withFile(files, 'MLmodel', 'mlflow_version: 3.17.2\n'),
      'INVALID_MLMODEL',
      'MLmodel',
      /at flavors/,
    ],
    [
      'a scikit-learn model',
      (files) =>
        withFile(
          files,
          'MLmodel',
          'flavors:\n  sklearn:\n    pickled_model: model.pkl\n  python_function: {loader_module: mlflow.sklearn}\n',
        ),
      'UNSUPPORTED_FLAVOR',
      'MLmodel',
      /has sklearn, python_function/,
    ],
    [
      'no model.onnx',
      (files) => withFile(files, 'model.onnx', undefined),
      'MISSING_FILE',
      'model.onnx',
      /missing/,
    ],
    [
      'a model.onnx that is not ONNX',
      (files) => withFile(files, 'model.onnx', '{"not": "onnx"}'),
      'INVALID_ONNX',
      'model.onnx',
      /model.onnx/,
    ],
    [
      'a missing input example',
      (files) => withFile(files, 'input_example.json', undefined),
      'MISSING_FILE',
      'input_example.json',
      /input example/,
    ],
    [
      'an input example that is not JSON',
      (files) => withFile(files, 'input_example.json', '{columns'),
      'INVALID_INPUT_EXAMPLE',
      'input_example.json',
      /not JSON/,
    ],
    [
      'a data contract that is not JSON',
      (files) => withFile(files, 'data_contract/input_schema.json', 'fields:'),
      'INVALID_DATA_CONTRACT',
      'data_contract/input_schema.json',
      /not JSON/,
    ],
    [
      'a signature that is not JSON',
      (files) =>
        withFile(
          files,
          'MLmodel',
          text(files, 'MLmodel').replace(/ {2}inputs: '.*'/, '  inputs: \'[{"type": \''),
        ),
      'INVALID_SIGNATURE',
      'MLmodel',
      /signature inputs is not JSON/,
    ],
  ])('rejects a directory with %s', (_name, corrupt, code, path, message) => {
    const error = readError(corrupt(classifierFiles()));

    expect(error.code).toBe(code);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });
});

describe('writeModelDirectory and readModelFiles', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'model-format-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('puts the same files on disk that it returns, and reads them back', async () => {
    const dir = join(root, 'regressor');

    const written = await writeModelDirectory(dir, {
      model: regressor,
      inputExample: [[4, 12]],
      dataContract: {},
    });
    const read = await readModelFiles(dir);

    expect(new Set(read.keys())).toEqual(new Set(written.keys()));
    for (const [path, bytes] of written) expect(read.get(path), path).toEqual(bytes);
    expect(readModelDirectory(read).featureNames).toEqual(['rooms', 'age']);
  });

  it('refuses to write into a directory that is not empty', async () => {
    const dir = join(root, 'twice');
    await writeModelDirectory(dir, { model: regressor, dataContract: {} });

    const again = writeModelDirectory(dir, { model: regressor, dataContract: {} });

    await expect(again).rejects.toMatchObject({ code: 'DIRECTORY_NOT_EMPTY' });
  });
});

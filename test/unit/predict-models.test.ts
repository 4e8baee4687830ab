/**
 * The predict API on the graph shapes users log, each built here in-process with the project's
 * ONNX proto writer: skl2onnx's (one [N, 1] input per column, strings included, ZipMap
 * probabilities), ours (one [N] input per column, `probability_<class>` outputs, an Imputer for
 * optional columns), a regressor on int32 and float [N] inputs, and the earlier single float
 * [N, F] tensor. Every answer is checked against the served model's /openapi.json with Ajv.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Column, categoricalColumn, type Frame, numericColumn } from '../../lambdas/core/data';
import { readModelDirectory } from '../../lambdas/core/model-format';
import { attribute, mlNode } from '../../lambdas/core/onnx/graph-builder';
import {
  encodeModelProto,
  type NodeProto,
  TensorDataType,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from '../../lambdas/core/onnx/proto-messages';
import { scoreFrame } from '../../lambdas/core/serving/frame-scoring';
import { prepareGraph } from '../../lambdas/core/serving/graph-preparation';
import type { ModelStore } from '../../lambdas/core/serving/model-store';
import type { ModelFiles } from '../../lambdas/core/serving/registry';
import { createPredictApp, type PredictHandler } from '../../lambdas/predict/app';
import { lambdaContext } from '../../localstack/serve/api-gateway-adapter';
import { InMemoryRegistry } from '../support/in-memory-registry';
import { proxyEvent } from '../support/predict-model-fixture';

// ---------------------------------------------------------------------------------------------
// Graph building

type Dim = number | 'N';

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (d === 'N' ? { dim_param: 'N' } : { dim_value: d })) },
      },
    },
  };
}

function int64Tensor(name: string, values: readonly number[]): TensorProto {
  return { name, data_type: TensorDataType.INT64, dims: [values.length], int64_data: [...values] };
}

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes = [] as NodeProto['attribute'],
) {
  return {
    op_type: opType,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    attribute: attributes,
  };
}

function onnxModel(graph: {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  metadata?: Record<string, string>;
}): Uint8Array {
  return encodeModelProto({
    ir_version: 8,
    opset_import: [
      { domain: '', version: 16 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    producer_name: 'predict-models-test',
    graph: {
      name: 'test',
      node: graph.nodes,
      input: graph.inputs,
      output: graph.outputs,
      // The reshape targets the nodes use: [N] and [N, 1].
      initializer: [int64Tensor('flat', [-1]), int64Tensor('column', [-1, 1])].filter((shape) =>
        graph.nodes.some((n) => n.input.includes(shape.name as string)),
      ),
    },
    metadata_props: Object.entries(graph.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

function linearClassifier(input: string, coefficients: number[], intercepts: number[], classes: string[]) {
  return mlNode(
    'LinearClassifier',
    [input],
    ['label', 'probabilities'],
    [
      attribute.floats('coefficients', coefficients),
      attribute.floats('intercepts', intercepts),
      attribute.strings('classlabels_strings', classes),
      attribute.string('post_transform', 'SOFTMAX'),
    ],
  );
}

/** An MLflow onnx-flavor directory: MLmodel (with a signature when given), model.onnx, an example. */
function modelDirectory(
  onnx: Uint8Array,
  signatureInputs: readonly object[] | null,
  example?: { columns: string[]; data: unknown[][] },
): ModelFiles {
  const lines = [
    'flavors:',
    '  onnx:',
    '    data: model.onnx',
    '    onnx_version: 1.23.2',
    '    providers: [CPUExecutionProvider]',
    'run_id: run-test',
  ];
  if (signatureInputs)
    lines.push('signature:', `  inputs: '${JSON.stringify(signatureInputs)}'`, '  outputs: null');
  if (example) {
    lines.push(
      'saved_input_example_info:',
      '  artifact_path: input_example.json',
      '  type: dataframe',
      '  pandas_orient: split',
    );
  }
  const utf8 = new TextEncoder();
  const files = new Map<string, Uint8Array>([
    ['MLmodel', utf8.encode(`${lines.join('\n')}\n`)],
    ['model.onnx', onnx],
  ]);
  if (example) files.set('input_example.json', utf8.encode(JSON.stringify(example)));
  return files;
}

// Both classifiers score [city=oslo, city=paris, city=rome, size, rooms(, garden)] with these.
const CITIES = ['oslo', 'paris', 'rome'];
const CLASSES = ['big', 'small'];
const COEF_BIG = [0.5, -0.3, 1.2, 0.04, 0.3, 0.8];
const COEF_SMALL = [-0.2, 0.4, -0.9, -0.03, -0.1, -0.5];
const INTERCEPTS = [-0.4, 0.6];
/** The training mean of `size`, imputed for a missing value by our format's graph. */
const SIZE_MEAN = 50;

interface House {
  city: string | null;
  size: number | null;
  rooms: number;
  garden?: boolean;
}

/** softmax(W·x + b) over the features the graphs build from a house. */
function expected(
  house: House,
  withGarden: boolean,
): { label: string; probabilities: Record<string, number> } {
  const x = [
    ...CITIES.map((c) => (house.city === c ? 1 : 0)),
    house.size ?? SIZE_MEAN,
    house.rooms,
    ...(withGarden ? [house.garden ? 1 : 0] : []),
  ];
  const score = (w: number[], b: number) => x.reduce((sum, v, j) => sum + v * (w[j] as number), b);
  const s = [score(COEF_BIG, INTERCEPTS[0] as number), score(COEF_SMALL, INTERCEPTS[1] as number)];
  const max = Math.max(...s);
  const e = s.map((v) => Math.exp(v - max));
  const total = (e[0] as number) + (e[1] as number);
  const probabilities = { big: (e[0] as number) / total, small: (e[1] as number) / total };
  return { label: probabilities.big >= probabilities.small ? 'big' : 'small', probabilities };
}

/** skl2onnx's shape: [N, 1] inputs, the encoder behind a Reshape, ZipMap probabilities. */
function skl2onnxClassifier(): ModelFiles {
  const width = 5;
  const pick = (w: number[]) => w.slice(0, width);
  const onnx = onnxModel({
    inputs: [
      valueInfo('city', TensorDataType.STRING, ['N', 1]),
      valueInfo('size', TensorDataType.DOUBLE, ['N', 1]),
      valueInfo('rooms', TensorDataType.INT64, ['N', 1]),
    ],
    nodes: [
      node('Reshape', ['city', 'flat'], ['city_flat']),
      mlNode(
        'OneHotEncoder',
        ['city_flat'],
        ['city_onehot'],
        [attribute.strings('cats_strings', CITIES), attribute.int('zeros', 1)],
      ),
      node('Cast', ['size'], ['size_f'], [attribute.int('to', TensorDataType.FLOAT)]),
      node('Cast', ['rooms'], ['rooms_f'], [attribute.int('to', TensorDataType.FLOAT)]),
      node('Concat', ['city_onehot', 'size_f', 'rooms_f'], ['x'], [attribute.int('axis', 1)]),
      linearClassifier('x', [...pick(COEF_BIG), ...pick(COEF_SMALL)], INTERCEPTS, CLASSES),
      node('Identity', ['label'], ['output_label']),
      mlNode(
        'ZipMap',
        ['probabilities'],
        ['output_probability'],
        [attribute.strings('classlabels_strings', CLASSES)],
      ),
    ],
    outputs: [
      valueInfo('output_label', TensorDataType.STRING, ['N']),
      {
        name: 'output_probability',
        type: {
          sequence_type: {
            elem_type: {
              map_type: {
                key_type: TensorDataType.STRING,
                value_type: { tensor_type: { elem_type: TensorDataType.FLOAT } } as TypeProto,
              },
            },
          },
        },
      },
    ],
  });
  return modelDirectory(onnx, [
    { type: 'string', name: 'city', required: true },
    { type: 'double', name: 'size', required: true },
    { type: 'long', name: 'rooms', required: true },
  ]);
}

/** Our format: [N] inputs, optional city and size, an Imputer, `probability_<class>` outputs. */
function rankOneClassifier(): ModelFiles {
  const column = (name: string) => [
    node('Cast', [name], [`${name}_f`], [attribute.int('to', TensorDataType.FLOAT)]),
    node('Reshape', [`${name}_f`, 'column'], [`${name}_col`]),
  ];
  const onnx = onnxModel({
    inputs: [
      valueInfo('city', TensorDataType.STRING, ['N']),
      valueInfo('size', TensorDataType.DOUBLE, ['N']),
      valueInfo('rooms', TensorDataType.INT64, ['N']),
      valueInfo('garden', TensorDataType.BOOL, ['N']),
    ],
    nodes: [
      mlNode(
        'OneHotEncoder',
        ['city'],
        ['city_onehot'],
        [attribute.strings('cats_strings', CITIES), attribute.int('zeros', 1)],
      ),
      ...column('size'),
      ...column('rooms'),
      ...column('garden'),
      node(
        'Concat',
        ['city_onehot', 'size_col', 'rooms_col', 'garden_col'],
        ['raw'],
        [attribute.int('axis', 1)],
      ),
      mlNode(
        'Imputer',
        ['raw'],
        ['x'],
        [
          attribute.floats('imputed_value_floats', [0, 0, 0, SIZE_MEAN, 0, 0]),
          attribute.float('replaced_value_float', Number.NaN),
        ],
      ),
      linearClassifier('x', [...COEF_BIG, ...COEF_SMALL], INTERCEPTS, CLASSES),
      node('Split', ['probabilities'], ['p_big', 'p_small'], [attribute.int('axis', 1)]),
      node('Reshape', ['p_big', 'flat'], ['probability_big']),
      node('Reshape', ['p_small', 'flat'], ['probability_small']),
    ],
    outputs: [
      valueInfo('label', TensorDataType.STRING, ['N']),
      valueInfo('probability_big', TensorDataType.FLOAT, ['N']),
      valueInfo('probability_small', TensorDataType.FLOAT, ['N']),
    ],
    metadata: { feature_categories: JSON.stringify({ city: CITIES }), class_labels: JSON.stringify(CLASSES) },
  });
  return modelDirectory(
    onnx,
    [
      { type: 'string', name: 'city', required: false },
      { type: 'double', name: 'size', required: false },
      { type: 'long', name: 'rooms', required: true },
      { type: 'boolean', name: 'garden', required: true },
    ],
    { columns: ['city', 'size', 'rooms', 'garden'], data: [['rome', null, 3, true]] },
  );
}

/** prediction = 2·a + 3·b + 1 over an int32 and a float [N] input; no signature at all. */
function int32Regressor(): ModelFiles {
  const onnx = onnxModel({
    inputs: [valueInfo('a', TensorDataType.INT32, ['N']), valueInfo('b', TensorDataType.FLOAT, ['N'])],
    nodes: [
      node('Cast', ['a'], ['a_f'], [attribute.int('to', TensorDataType.FLOAT)]),
      node('Reshape', ['a_f', 'column'], ['a_col']),
      node('Reshape', ['b', 'column'], ['b_col']),
      node('Concat', ['a_col', 'b_col'], ['x'], [attribute.int('axis', 1)]),
      mlNode(
        'LinearRegressor',
        ['x'],
        ['y'],
        [attribute.floats('coefficients', [2, 3]), attribute.floats('intercepts', [1])],
      ),
      node('Reshape', ['y', 'flat'], ['prediction']),
    ],
    outputs: [valueInfo('prediction', TensorDataType.FLOAT, ['N'])],
  });
  return modelDirectory(onnx, null);
}

const IRIS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const IRIS_COEF = [0.4, 1.4, -2.2, -1.0, 0.5, -1.6, 0.5, -1.3, -1.6, -1.4, 2.4, 2.3];

/** The format of earlier versions: one float `input` [N, 4], a tensor signature, names in the metadata. */
function singleTensorClassifier(): ModelFiles {
  const onnx = onnxModel({
    inputs: [valueInfo('input', TensorDataType.FLOAT, ['N', 4])],
    nodes: [linearClassifier('input', IRIS_COEF, [0.3, 1.0, -1.2], ['setosa', 'versicolor', 'virginica'])],
    outputs: [
      valueInfo('label', TensorDataType.STRING, ['N']),
      valueInfo('probabilities', TensorDataType.FLOAT, ['N', 3]),
    ],
    metadata: { feature_names: JSON.stringify(IRIS) },
  });
  return modelDirectory(onnx, [{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 4] } }]);
}

// ---------------------------------------------------------------------------------------------
// The API around one model

/** The parts of an answer and of the OpenAPI document the assertions read. */
interface AnswerBody {
  predictions: { label: string; probabilities: Record<string, number> }[];
  error: { code: string; message: string; field: string | null; row: number | null };
}
interface SchemaDoc {
  type?: unknown;
  properties: Record<string, unknown>;
  required: string[];
}
interface OpenApiDoc {
  components: { schemas: { Record: SchemaDoc; Prediction: SchemaDoc } };
  paths: {
    '/predict': { post: { requestBody: { content: { 'application/json': { example?: unknown } } } } };
  };
}

let store: ModelStore;
let handler: PredictHandler;
let openapi: OpenApiDoc;

function serve(files: ModelFiles): void {
  const registry = new InMemoryRegistry('houses');
  registry.setAlias('Production', registry.addVersion(files, 'run-1').version);
  const logger = new Logger({ serviceName: 'predict', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'predict' });
  ({ store, handler } = createPredictApp(
    {
      servingBucket: 'serving-unit-test',
      modelName: 'houses',
      modelAlias: 'Production',
      aliasTtlMs: 30_000,
      maxRows: 100,
      maxBodyBytes: 65_536,
      allowedAliases: ['Production', 'Challenger'],
      apiAuth: 'iam',
    },
    { registry, observability: { logger, metrics } },
  ));
}

async function call(event: ReturnType<typeof proxyEvent>): Promise<{ statusCode: number; json: AnswerBody }> {
  const result = await handler(event, lambdaContext('req-1', { functionName: 'predict-test' }));
  return { statusCode: result.statusCode, json: JSON.parse(result.body) as AnswerBody };
}

/** The served model's OpenAPI document, compiled: validates a value against one of its schemas. */
async function openapiValidator(): Promise<(schema: string, value: unknown) => string | null> {
  openapi = (await call(proxyEvent({ method: 'GET', path: '/openapi.json' }))).json as unknown as OpenApiDoc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi', components: openapi.components }, 'openapi');
  return (schema, value) => {
    const validate = ajv.getSchema(`openapi#/components/schemas/${schema}`);
    if (!validate) throw new Error(`no schema ${schema}`);
    return validate(value) ? null : ajv.errorsText(validate.errors);
  };
}

let conforms: (schema: string, value: unknown) => string | null;

/** POSTs /predict and checks the answer against the document: 200s and errors alike. */
async function predict(body: unknown) {
  const answer = await call(proxyEvent({ body: JSON.stringify(body) }));
  const schema = answer.statusCode === 200 ? 'PredictResponse' : 'Error';
  expect(conforms(schema, answer.json), `${answer.statusCode} ${JSON.stringify(answer.json)}`).toBeNull();
  return answer;
}

function nth<T>(list: readonly T[], i: number): T {
  const item = list[i];
  if (item === undefined) throw new Error(`no item ${i} in ${JSON.stringify(list)}`);
  return item;
}

function closeTo(actual: Record<string, number>, wanted: Record<string, number>) {
  for (const [name, p] of Object.entries(wanted)) expect(actual[name]).toBeCloseTo(p, 5);
  expect(Object.keys(actual).sort()).toEqual(Object.keys(wanted).sort());
}

beforeEach(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

afterEach(() => {
  store.close();
});

// ---------------------------------------------------------------------------------------------

describe('a skl2onnx-shaped model: [N, 1] string/double/int64 inputs and ZipMap probabilities', () => {
  beforeEach(async () => {
    serve(skl2onnxClassifier());
    await store.warm();
    conforms = await openapiValidator();
  });

  const houses: House[] = [
    { city: 'rome', size: 62.5, rooms: 3 },
    { city: 'oslo', size: 31, rooms: 1 },
    { city: 'paris', size: 2, rooms: 1 },
  ];

  it('answers as the graph computes, records in any key order and dataframe_split in any column order', async () => {
    const records = houses.map(({ rooms, size, city }) => ({ rooms, size, city }));
    const split = {
      dataframe_split: {
        columns: ['size', 'rooms', 'city'],
        data: houses.map((h) => [h.size, h.rooms, h.city]),
      },
    };

    const byRecords = await predict({ instances: records });
    const bySplit = await predict(split);

    expect(byRecords.statusCode).toBe(200);
    expect(bySplit.json.predictions).toEqual(byRecords.json.predictions);
    houses.forEach((house, i) => {
      const want = expected(house, false);
      expect(nth(byRecords.json.predictions, i).label).toBe(want.label);
      closeTo(nth(byRecords.json.predictions, i).probabilities, want.probabilities);
    });
    expect(new Set(byRecords.json.predictions.map((p: { label: string }) => p.label))).toEqual(
      new Set(['big', 'small']),
    );
  });

  it("takes MLflow's tensor form of column inputs, [[v], [v]]", async () => {
    const answer = await predict({ inputs: { city: [['rome']], size: [[62.5]], rooms: [[3]] } });

    expect(nth(answer.json.predictions, 0).label).toBe(expected(houses[0] as House, false).label);
  });

  it('knows the categories from the OneHotEncoder behind the input and refuses others', async () => {
    const answer = await predict({ instances: [houses[0], { city: 'lyon', size: 40, rooms: 2 }] });

    expect(answer.statusCode).toBe(400);
    expect(answer.json.error).toMatchObject({ code: 'UNKNOWN_CATEGORY', field: 'city', row: 1 });
    expect(answer.json.error.message).toBe(
      'city in row 1 is "lyon", a value the model does not know; known values: "oslo", "paris", "rome"',
    );
    expect(openapi.components.schemas.Record.properties).toMatchObject({
      city: { type: 'string', enum: CITIES },
    });
  });

  it.each([
    [
      { instances: [{ city: 'rome', size: '62.5', rooms: 3 }] },
      'INVALID_TYPE',
      'size',
      0,
      'size in row 0 must be a number, got the string "62.5"',
    ],
    [
      { instances: [{ city: 'rome', size: 62.5, rooms: 2.5 }] },
      'INVALID_TYPE',
      'rooms',
      0,
      'rooms in row 0 must be an integer, got 2.5',
    ],
    [
      { instances: [{ city: 7, size: 62.5, rooms: 2 }] },
      'INVALID_TYPE',
      'city',
      0,
      'city in row 0 must be a string, got number',
    ],
    [
      { dataframe_records: [houses[0], { city: 'rome', rooms: 2 }] },
      'MISSING_FIELD',
      'size',
      1,
      "missing field 'size' in row 1",
    ],
    [
      { dataframe_split: { columns: ['city', 'size'], data: [['rome', 3]] } },
      'MISSING_FIELD',
      'rooms',
      null,
      "missing field 'rooms'",
    ],
    [
      { instances: [{ ...houses[0], floors: 2 }] },
      'UNKNOWN_FIELD',
      'floors',
      0,
      "unknown field 'floors' in row 0; the model takes city, size, rooms",
    ],
    [
      { instances: [{ city: 'rome', size: null, rooms: 2 }] },
      'INVALID_TYPE',
      'size',
      0,
      'size in row 0 must be a number, got null',
    ],
  ])('answers 400 naming the column for %j', async (body, code, field, row, message) => {
    const answer = await predict(body);

    expect(answer.statusCode).toBe(400);
    expect(answer.json.error).toEqual({ code, field, row, message });
  });

  it('documents every input column with its JSON type and as required', () => {
    const record = openapi.components.schemas.Record;

    expect(record.required).toEqual(['city', 'size', 'rooms']);
    expect(record.properties).toEqual({
      city: { type: 'string', enum: CITIES },
      size: { type: 'number' },
      rooms: { type: 'integer' },
    });
    expect(conforms('PredictRequest', { instances: [houses[0]] })).toBeNull();
    expect(conforms('PredictRequest', { instances: [{ city: 'lyon', size: 1, rooms: 1 }] })).not.toBeNull();
  });
});

describe('our rank-1 format: [N] inputs, optional columns, probability_<class> outputs', () => {
  beforeEach(async () => {
    serve(rankOneClassifier());
    await store.warm();
    conforms = await openapiValidator();
  });

  it('answers per-class outputs as label and probabilities, coercing bool and int64 inputs', async () => {
    const houses: House[] = [
      { city: 'paris', size: 70, rooms: 4, garden: true },
      { city: 'oslo', size: 20, rooms: 1, garden: false },
    ];

    const answer = await predict({ dataframe_records: houses });

    expect(answer.statusCode).toBe(200);
    houses.forEach((house, i) => {
      const want = expected(house, true);
      expect(nth(answer.json.predictions, i).label).toBe(want.label);
      closeTo(nth(answer.json.predictions, i).probabilities, want.probabilities);
    });
  });

  it('takes null or an absent field as missing for optional columns: the graph imputes size and zeroes city', async () => {
    const answer = await predict({
      instances: [
        { city: null, size: null, rooms: 2, garden: true },
        { rooms: 2, garden: true },
      ],
    });

    const want = expected({ city: null, size: null, rooms: 2, garden: true }, true);
    expect(answer.statusCode).toBe(200);
    for (const prediction of answer.json.predictions) closeTo(prediction.probabilities, want.probabilities);
  });

  it('refuses null for a required column, and numbers for a boolean', async () => {
    const nullRooms = await predict({ instances: [{ city: 'rome', size: 1, rooms: null, garden: true }] });
    const numericGarden = await predict({ instances: [{ city: 'rome', size: 1, rooms: 1, garden: 1 }] });

    expect(nullRooms.json.error).toMatchObject({ code: 'INVALID_TYPE', field: 'rooms', row: 0 });
    expect(numericGarden.json.error).toMatchObject({
      code: 'INVALID_TYPE',
      field: 'garden',
      message: 'garden in row 0 must be a boolean, got number',
    });
  });

  it('refuses a category outside feature_categories, naming the known values', async () => {
    const answer = await predict({
      inputs: {
        city: ['rome', 'oslo', 'Rome'],
        size: [1, 2, 3],
        rooms: [1, 1, 1],
        garden: [true, true, true],
      },
    });

    expect(answer.json.error).toMatchObject({ code: 'UNKNOWN_CATEGORY', field: 'city', row: 2 });
    expect(answer.json.error.message).toContain('known values: "oslo", "paris", "rome"');
  });

  it('documents optional columns as nullable and not required, the classes of the answer, and the example', () => {
    const schemas = openapi.components.schemas;

    expect(schemas.Record.required).toEqual(['rooms', 'garden']);
    expect(schemas.Record.properties).toEqual({
      city: { type: ['string', 'null'], enum: [...CITIES, null] },
      size: { type: ['number', 'null'] },
      rooms: { type: 'integer' },
      garden: { type: 'boolean' },
    });
    expect(schemas.Prediction.properties).toMatchObject({
      label: { type: 'string', enum: CLASSES },
      probabilities: { required: CLASSES },
    });
    const example = openapi.paths['/predict'].post.requestBody.content['application/json'].example;
    expect(example).toEqual({
      dataframe_split: { columns: ['city', 'size', 'rooms', 'garden'], data: [['rome', null, 3, true]] },
    });
    expect(conforms('PredictRequest', example)).toBeNull();
  });
});

describe('a regressor on int32 and float [N] inputs, with no signature', () => {
  beforeEach(async () => {
    serve(int32Regressor());
    await store.warm();
    conforms = await openapiValidator();
  });

  it('answers one number per row, the columns named after the graph inputs', async () => {
    const answer = await predict({
      dataframe_split: {
        columns: ['b', 'a'],
        data: [
          [0.5, 2],
          [-1, 10],
        ],
      },
    });

    expect(answer.json.predictions).toEqual([2 * 2 + 3 * 0.5 + 1, 2 * 10 - 3 + 1]);
    expect(openapi.components.schemas.Prediction).toMatchObject({ type: 'number' });
  });

  it('refuses integers beyond int32 and fractions for the int32 input', async () => {
    const big = await predict({ instances: [{ a: 2 ** 31, b: 1 }] });
    const fraction = await predict({ instances: [[1.5, 1]] });

    expect(big.json.error).toMatchObject({ code: 'NOT_FINITE', field: 'a', row: 0 });
    expect(big.json.error.message).toBe('a in row 0 is out of the int32 range the model computes in');
    expect(fraction.json.error).toMatchObject({ code: 'INVALID_TYPE', field: 'a' });
  });
});

describe('the single float [N, F] tensor of earlier versions', () => {
  beforeEach(async () => {
    serve(singleTensorClassifier());
    await store.warm();
    conforms = await openapiValidator();
  });

  it('keeps serving by the feature names in the metadata, records and positional rows alike', async () => {
    const setosa = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

    const records = await predict({ instances: [setosa] });
    const tensor = await predict({ inputs: { input: [[5.1, 3.5, 1.4, 0.2]] } });

    expect(nth(records.json.predictions, 0).label).toBe('setosa');
    expect(tensor.json.predictions).toEqual(records.json.predictions);
    expect(Object.keys(nth(records.json.predictions, 0).probabilities)).toEqual([
      'setosa',
      'versicolor',
      'virginica',
    ]);
  });
});

describe('every other answer conforms to the document too', () => {
  beforeEach(async () => {
    serve(rankOneClassifier());
    await store.warm();
    conforms = await openapiValidator();
  });

  it('health, status and the HTTP errors', async () => {
    const health = await call(proxyEvent({ method: 'GET', path: '/health' }));
    const status = await call(proxyEvent({ method: 'GET', path: '/status' }));
    const notFound = await call(proxyEvent({ method: 'GET', path: '/nope' }));
    const badJson = await call(proxyEvent({ body: '{' }));

    expect(conforms('Health', health.json)).toBeNull();
    expect(conforms('Status', status.json)).toBeNull();
    expect([notFound.statusCode, badJson.statusCode]).toEqual([404, 400]);
    expect(conforms('Error', notFound.json)).toBeNull();
    expect(conforms('Error', badJson.json)).toBeNull();
  });
});

describe('prepareGraph', () => {
  it('exposes the ZipMap input as a float [N, C] output with the classes of the ZipMap', () => {
    const onnx = skl2onnxClassifier().get('model.onnx') as Uint8Array;

    const prepared = prepareGraph(onnx);

    expect(prepared.bytes).not.toBe(onnx);
    expect(prepared.zipMapClasses.get('probabilities')).toEqual(CLASSES);
    expect(prepared.encoderCategories.get('city')).toEqual(CITIES);
  });

  it('leaves a graph without ZipMap as it is', () => {
    const onnx = rankOneClassifier().get('model.onnx') as Uint8Array;

    expect(prepareGraph(onnx).bytes).toBe(onnx);
  });
});

describe('batch scoring: a frame through the same input mapping', () => {
  beforeEach(() => {
    serve(rankOneClassifier()); // only so afterEach has a store to close
  });

  it('maps frame columns by name, strings from levels and "" / NaN for missing, and sets aside unknown categories', async () => {
    const directory = readModelDirectory(rankOneClassifier());
    const frame: Frame = {
      rowCount: 4,
      columns: new Map<string, Column>([
        ['garden', numericColumn(Float64Array.from([1, 0, 1, 0]))],
        ['city', categoricalColumn(Int32Array.from([0, 1, -1, 2]), ['rome', 'lyon', 'oslo'])],
        ['rooms', numericColumn(Float64Array.from([3, 2, 2, 1]))],
        ['size', numericColumn(Float64Array.from([62.5, 40, Number.NaN, 31]))],
      ]),
    };

    const scores = await scoreFrame(directory, frame);

    expect(Array.from(scores.rows)).toEqual([0, 2, 3]);
    expect(scores.problems).toEqual([
      {
        row: 1,
        column: 'city',
        rule: 'not_allowed_value',
        value: 'lyon',
        message: 'column "city" value "lyon" is not a category the model knows (oslo, paris, rome)',
      },
    ]);
    const houses: House[] = [
      { city: 'rome', size: 62.5, rooms: 3, garden: true },
      { city: null, size: null, rooms: 2, garden: true },
      { city: 'oslo', size: 31, rooms: 1, garden: false },
    ];
    const prediction = scores.prediction;
    if (prediction.task !== 'classification') throw new Error('not a classifier');
    expect(prediction.classes).toEqual(CLASSES);
    houses.forEach((house, i) => {
      const want = expected(house, true);
      expect(prediction.labels[i]).toBe(want.label);
      expect(prediction.probabilities?.[i * 2] ?? Number.NaN).toBeCloseTo(
        want.probabilities.big as number,
        5,
      );
    });
  });

  it('quarantines a missing value for an int64 input, and names a column the frame lacks', async () => {
    const directory = readModelDirectory(rankOneClassifier());
    const columns = new Map<string, Column>([
      ['city', categoricalColumn(Int32Array.from([0]), ['rome'])],
      ['size', numericColumn(Float64Array.from([1]))],
      ['rooms', numericColumn(Float64Array.from([Number.NaN]))],
      ['garden', numericColumn(Float64Array.from([1]))],
    ]);

    const scores = await scoreFrame(directory, { rowCount: 1, columns });
    columns.delete('garden');

    expect(scores.problems[0]).toMatchObject({ row: 0, column: 'rooms', rule: 'null_not_allowed' });
    expect(scores.rows.length).toBe(0);
    await expect(scoreFrame(directory, { rowCount: 1, columns })).rejects.toThrow(
      "the model takes a column 'garden' the data does not have",
    );
  });
});

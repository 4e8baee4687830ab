import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seededUniform } from '../../lambdas/core/seeded-random';
import type { ModelStore } from '../../lambdas/core/serving/model-store';
import { createPredictApp, type PredictHandler } from '../../lambdas/predict/app';
import { lambdaContext } from '../../localstack/serve/api-gateway-adapter';
import {
  IRIS_FEATURES,
  irisPredictConfig,
  irisRegistry,
  proxyEvent,
  SETOSA,
} from '../support/predict-model-fixture';

const CASES = 10_000;
const MAX_ROWS = 50;
const MAX_BODY_BYTES = 16 * 1024;

type Generator = (rand: () => number) => {
  body: string | null;
  contentType?: string | null;
  base64?: boolean;
};

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const int = (rand: () => number, max: number) => Math.floor(rand() * max);
const SHAPES = ['instances', 'dataframe_records', 'inputs'] as const;
const WEIRD_VALUES: readonly unknown[] = [
  'NaN',
  'Infinity',
  '-Infinity',
  '5.1',
  '',
  true,
  false,
  null,
  {},
  [],
  [5.1],
  { value: 5.1 },
  '💥',
  '\u0000',
  '\ud800',
  'x'.repeat(500),
];
const RAW_NUMBERS = ['1e309', '-1e400', '1e39', '-3.5e38', '123456789e999', '1E+400'];
const UNICODE_KEYS = [
  'sépal_length',
  'ｓｅｐａｌ_length',
  'sepal_length\u200b',
  '🌸',
  '\u202esepal',
  'SEPAL_LENGTH',
  '',
];

function validRecords(rand: () => number, rows: number): Record<string, number>[] {
  return Array.from({ length: rows }, () =>
    Object.fromEntries(IRIS_FEATURES.map((f) => [f, +(rand() * 8).toFixed(2)])),
  );
}

const generators: Record<string, Generator> = {
  wrongType: (rand) => {
    const rows = validRecords(rand, 1 + int(rand, 5)) as Record<string, unknown>[];
    const row = pick(rand, rows);
    row[pick(rand, IRIS_FEATURES)] = pick(rand, WEIRD_VALUES);
    return { body: JSON.stringify({ [pick(rand, ['instances', 'dataframe_records'])]: rows }) };
  },
  positionalWrongType: (rand) => {
    const row: unknown[] = [5.1, 3.5, 1.4, 0.2];
    row[int(rand, 4)] = pick(rand, WEIRD_VALUES);
    return { body: JSON.stringify({ inputs: [row] }) };
  },
  hugeNumber: (rand) => {
    const values = IRIS_FEATURES.map(
      (f) => `"${f}": ${f === 'petal_width' ? pick(rand, RAW_NUMBERS) : '1.5'}`,
    );
    return { body: `{"instances": [{${values.join(', ')}}]}` };
  },
  nanLiteral: (rand) => ({
    body: `{"instances": [{"sepal_length": ${pick(rand, ['NaN', 'Infinity', '-Infinity', 'nan', 'None', 'undefined'])}, "sepal_width": 1, "petal_length": 1, "petal_width": 1}]}`,
  }),
  deepNesting: (rand) => {
    const depth = 50 + int(rand, 5000);
    const open = pick(rand, ['[', '{"a":']);
    const close = open === '[' ? ']' : '}';
    return { body: `{"instances": [${open.repeat(depth)}1${close.repeat(depth)}]}` };
  },
  deepNestingUnclosed: (rand) => ({ body: `{"instances": ${'['.repeat(100 + int(rand, 5000))}` }),
  unicodeKeys: (rand) => {
    const row: Record<string, unknown> = { ...SETOSA };
    row[pick(rand, UNICODE_KEYS)] = 1;
    return { body: JSON.stringify({ instances: [row] }) };
  },
  unicodeGarbage: (rand) => ({
    body: Array.from({ length: 1 + int(rand, 200) }, () => String.fromCharCode(int(rand, 0xffff))).join(''),
  }),
  truncated: (rand) => {
    const full = JSON.stringify({ [pick(rand, SHAPES)]: validRecords(rand, 1 + int(rand, 10)) });
    return { body: full.slice(0, int(rand, full.length)) };
  },
  wrongShape: (rand) => ({
    body: JSON.stringify(
      pick(rand, [
        [SETOSA],
        SETOSA,
        42,
        'instances',
        null,
        true,
        { instances: SETOSA },
        { instances: 'rows' },
        { instances: [1, 2, 3] },
        { instances: [[1, 2, 3]] },
        { instances: [[1, 2, 3, 4, 5]] },
        { instances: [null] },
        { dataframe_records: [[5.1, 3.5, 1.4, 0.2]] },
        { dataframe_split: { columns: IRIS_FEATURES } },
        { dataframe_split: { data: [[1, 2, 3, 4]] } },
        { dataframe_split: { columns: 'all', data: [[1, 2, 3, 4]] } },
        { dataframe_split: { columns: IRIS_FEATURES, data: [[1, 2, 3]] } },
        { dataframe_split: { columns: [1, 2, 3, 4], data: [[1, 2, 3, 4]] } },
        { dataframe_split: [[1, 2, 3, 4]] },
        { inputs: 5 },
        { inputs: { input: [[1, 2]] } },
        { inputs: { sepal_length: [1], sepal_width: [1, 2], petal_length: [1], petal_width: [1] } },
        { inputs: { sepal_length: 1 } },
        { instances: [SETOSA], inputs: [[1, 2, 3, 4]] },
        { instances: [SETOSA], params: { threshold: 0.5 } },
        { predict: [SETOSA] },
        {},
        { instances: [] },
        { instances: [{}] },
        { ['__proto__']: [SETOSA] },
      ]),
    ),
  }),
  protoPollution: () => ({ body: '{"instances": [{"__proto__": {"x": 1}, "sepal_length": 1}]}' }),
  missingField: (rand) => {
    const row: Record<string, unknown> = { ...SETOSA };
    delete row[pick(rand, IRIS_FEATURES)];
    return { body: JSON.stringify({ dataframe_records: [SETOSA, row] }) };
  },
  tooManyRows: (rand) => ({
    body: JSON.stringify({
      inputs: Array.from({ length: MAX_ROWS + 1 + int(rand, 100) }, () => [1, 2, 3, 4]),
    }),
  }),
  bigBody: (rand) => ({
    body: JSON.stringify({ instances: [{ ...SETOSA, pad: 'x'.repeat(MAX_BODY_BYTES + int(rand, 50_000)) }] }),
  }),
  bigMultibyteBody: (rand) => ({
    // Under the limit in UTF-16 code units, over it in UTF-8 bytes.
    body: JSON.stringify({
      instances: [{ ...SETOSA, pad: '€'.repeat(Math.ceil(MAX_BODY_BYTES / 3) + int(rand, 500)) }],
    }),
  }),
  wrongContentType: (rand) => ({
    body: JSON.stringify({ instances: [SETOSA] }),
    contentType: pick(rand, [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/jsonx',
      'json',
      '',
      null,
      '\u0000',
      'application/json'.repeat(20),
    ]),
  }),
  base64Garbage: (rand) => ({
    body: Buffer.from(Array.from({ length: int(rand, 300) }, () => int(rand, 256))).toString('base64'),
    base64: true,
  }),
  emptyish: (rand) => ({ body: pick(rand, ['', ' ', '\n\t', null, 'null', '""', '[]', '0']) }),
};

let handler: PredictHandler;
let store: ModelStore;

beforeAll(async () => {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  ({ store, handler } = createPredictApp(
    irisPredictConfig({ aliasTtlMs: 60_000, maxRows: MAX_ROWS, maxBodyBytes: MAX_BODY_BYTES }),
    {
      registry: irisRegistry(),
      observability: {
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics: new Metrics({ namespace: 'Fuzz', serviceName: 'predict' }),
      },
    },
  ));
  await store.warm();
});

afterAll(() => {
  store.close();
  vi.unstubAllEnvs();
});

describe('predict handler under fuzzing', () => {
  it(`answers ${CASES} malformed requests with a 4xx JSON error and keeps serving`, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const names = Object.keys(generators);
    const rand = seededUniform(20_261_123); // seeded: a failing case can be replayed from its index
    const failures: string[] = [];
    const codes = new Map<string, number>();

    for (let i = 0; i < CASES; i++) {
      const name = names[i % names.length] ?? '';
      const generated = generators[name]?.(rand) ?? { body: null };
      const headers: Record<string, string> =
        generated.contentType === null
          ? {}
          : { [pick(rand, ['Content-Type', 'content-type'])]: generated.contentType ?? 'application/json' };
      const event: APIGatewayProxyEvent = {
        ...proxyEvent({ body: generated.body, headers }),
        isBase64Encoded: generated.base64 === true,
      };
      const result = await handler(event, lambdaContext(`fuzz-${i}`));
      const problem = checkErrorAnswer(result.statusCode, result.body);
      if (problem) failures.push(`#${i} ${name}: ${problem} for ${String(generated.body).slice(0, 120)}`);
      const code = /"code":"([A-Z_]+)"/.exec(result.body)?.[1] ?? '?';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }

    process.off('unhandledRejection', onUnhandled);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(unhandled).toEqual([]);
    // Every family of error showed up, so the generators reach the checks they aim at.
    expect([...codes.keys()].sort()).toEqual(
      expect.arrayContaining([
        'BODY_TOO_LARGE',
        'EMPTY_BODY',
        'INVALID_JSON',
        'INVALID_SHAPE',
        'INVALID_TYPE',
        'MISSING_FIELD',
        'NOT_FINITE',
        'TOO_MANY_ROWS',
        'UNKNOWN_FIELD',
        'UNSUPPORTED_MEDIA_TYPE',
      ]),
    );
    const after = await handler(
      proxyEvent({ body: JSON.stringify({ instances: [SETOSA] }) }),
      lambdaContext('after'),
    );
    expect(after.statusCode).toBe(200);
  });
});

/** Undefined when the answer is a 4xx with exactly the error shape and no stack trace; else what is wrong. */
function checkErrorAnswer(statusCode: number, body: string): string | undefined {
  if (statusCode < 400 || statusCode > 499) return `status ${statusCode}`;
  if (/\n\s+at /.test(body) || body.includes('.ts:')) return 'a stack trace in the body';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'a body that is not JSON';
  }
  const error = (parsed as { error?: Record<string, unknown> }).error;
  if (!error || Object.keys(parsed as object).length !== 1) return 'no error object';
  const { code, message, field, row } = error;
  if (typeof code !== 'string' || typeof message !== 'string') return 'no code or message';
  if (!(field === null || typeof field === 'string')) return 'a field that is not a string';
  if (!(row === null || (typeof row === 'number' && Number.isInteger(row))))
    return 'a row that is not an integer';
  return undefined;
}

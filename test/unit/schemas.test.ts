/**
 * The JSON Schemas in schemas/ (draft 2020-12, what editors and other tools read) and the code's
 * own validators (zod, in the Lambdas and the CLI) agree on a set of valid and invalid documents.
 * What a schema cannot say (unique column names, the target among the columns, min <= max, unique
 * candidate names) only the code checks: those documents are listed apart, valid to the schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { inferContract, loadFrame, parseContract } from '../../lambdas/core/data';
import { parseCandidateSpecs } from '../../lambdas/core/training/candidate-specs';
import { CANDIDATES as DEMO_CANDIDATES } from '../../localstack/demo/datasets';
import { ROOT } from '../../localstack/services/services';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
const json = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
const contractSchema = ajv.compile(json('schemas/data-contract.schema.json') as object);
const candidatesSchema = ajv.compile(json('schemas/candidates.schema.json') as object);

function codeAccepts(check: (doc: unknown) => unknown, doc: unknown): boolean {
  try {
    check(doc);
    return true;
  } catch {
    return false;
  }
}

const IRIS = json('lambdas/core/datasets/iris/input_schema.json') as Record<string, unknown>;
const column = (extra: Record<string, unknown>) => ({
  task: 'classification',
  target: 'y',
  columns: [
    { name: 'y', type: 'category' },
    { name: 'x', ...extra },
  ],
});

describe('schemas/data-contract.schema.json', () => {
  const valid: [string, unknown][] = [
    ['iris', IRIS],
    ['cars', json('lambdas/core/datasets/cars/input_schema.json')],
    ['seattle-weather', json('lambdas/core/datasets/seattle-weather/input_schema.json')],
    ['every field', { ...IRIS, $schema: 'x', name: 'n', description: 'd', version: 'v1' }],
    ['nullable integer with a range', column({ type: 'integer', nullable: true, min: 0, max: 9 })],
    ['datetime', column({ type: 'datetime', description: 'when' })],
    [
      'time column',
      {
        ...column({ type: 'number' }),
        columns: [...column({ type: 'number' }).columns, { name: 't', type: 'datetime' }],
        time_column: 't',
      },
    ],
  ];
  const invalid: [string, unknown][] = [
    ['no task', { ...IRIS, task: undefined }],
    ['unknown task', { ...IRIS, task: 'clustering' }],
    ['no target', { ...IRIS, target: undefined }],
    ['no columns', { ...IRIS, columns: [] }],
    ['unknown top-level field', { ...IRIS, label: 'species' }],
    ['unknown type', column({ type: 'float' })],
    ['unknown column field', column({ type: 'number', unit: 'cm' })],
    ['empty column name', column({ type: 'number', name: '' })],
    ['min on a category', column({ type: 'category', min: 0 })],
    ['max on a boolean', column({ type: 'boolean', max: 1 })],
    ['values on a number', column({ type: 'number', values: ['a'] })],
    ['empty values', column({ type: 'category', values: [] })],
    ['an empty value', column({ type: 'category', values: [''] })],
    ['duplicate values', column({ type: 'category', values: ['a', 'a'] })],
    ['min not a number', column({ type: 'number', min: '0' })],
    ['nullable not a boolean', column({ type: 'number', nullable: 'yes' })],
  ];
  // Valid to the schema, refused by the code: relations between fields.
  const codeOnly: [string, unknown][] = [
    ['target not a column', { ...IRIS, target: 'kind' }],
    ['duplicate column names', column({ type: 'category', name: 'y' })],
    ['min above max', column({ type: 'number', min: 2, max: 1 })],
    ['regression on a category', { ...column({ type: 'number' }), task: 'regression' }],
    ['no feature', { task: 'classification', target: 'y', columns: [{ name: 'y', type: 'category' }] }],
  ];

  it.each(valid)('both accept %s', (_name, doc) => {
    expect(contractSchema(doc), JSON.stringify(contractSchema.errors)).toBe(true);
    expect(codeAccepts(parseContract, doc)).toBe(true);
  });

  it.each(invalid)('both refuse %s', (_name, doc) => {
    expect(contractSchema(doc)).toBe(false);
    expect(codeAccepts(parseContract, doc)).toBe(false);
  });

  it.each(codeOnly)('the code alone refuses %s (the schema says so in its description)', (_name, doc) => {
    expect(contractSchema(doc), JSON.stringify(contractSchema.errors)).toBe(true);
    expect(codeAccepts(parseContract, doc)).toBe(false);
  });

  it('holds the contracts mlops contract infer drafts', async () => {
    const frame = await loadFrame(join(ROOT, 'lambdas/core/datasets/cars/cars.json'));
    const { contract } = inferContract(frame, { name: 'cars', target: 'Miles_per_Gallon' });
    expect(contractSchema(contract), JSON.stringify(contractSchema.errors)).toBe(true);
  });
});

describe('schemas/candidates.schema.json', () => {
  const valid: [string, unknown][] = [
    ['the demo candidates', DEMO_CANDIDATES],
    ['no params', [{ name: 'r', family: 'ridge' }]],
    [
      'every family with every parameter',
      [
        { name: 'lr', family: 'logistic_regression', params: { c: 0.5, max_iter: 100, tol: 1e-4 } },
        { name: 'ridge', family: 'ridge', params: { alpha: 2 } },
        {
          name: 'rf',
          family: 'random_forest',
          params: {
            n_estimators: 10,
            max_depth: 0,
            min_samples_leaf: 2,
            max_features: 0.5,
            bootstrap: false,
            max_bins: 64,
          },
        },
        { name: 'rf-sqrt', family: 'random_forest', params: { max_features: 'sqrt' } },
        {
          name: 'gb',
          family: 'gradient_boosting',
          params: {
            max_iter: 50,
            learning_rate: 0.05,
            max_leaf_nodes: 0,
            max_depth: 3,
            min_samples_leaf: 5,
            l2_regularization: 0.1,
            max_bins: 128,
          },
        },
      ],
    ],
  ];
  const invalid: [string, unknown][] = [
    ['not an array', { name: 'r', family: 'ridge' }],
    ['an empty array', []],
    ['no name', [{ family: 'ridge' }]],
    ['a blank name', [{ name: '  ', family: 'ridge' }]],
    ['no family', [{ name: 'r' }]],
    ['an unknown family', [{ name: 'r', family: 'svm' }]],
    ['an unknown field', [{ name: 'r', family: 'ridge', weight: 1 }]],
    ['a misspelt parameter', [{ name: 'rf', family: 'random_forest', params: { max_dept: 3 } }]],
    ["another family's parameter", [{ name: 'r', family: 'ridge', params: { c: 1 } }]],
    ['alpha 0', [{ name: 'r', family: 'ridge', params: { alpha: 0 } }]],
    ['a fractional count', [{ name: 'rf', family: 'random_forest', params: { n_estimators: 2.5 } }]],
    ['max_features above 1', [{ name: 'rf', family: 'random_forest', params: { max_features: 1.5 } }]],
    ['max_leaf_nodes 1', [{ name: 'gb', family: 'gradient_boosting', params: { max_leaf_nodes: 1 } }]],
    ['learning_rate above 10', [{ name: 'gb', family: 'gradient_boosting', params: { learning_rate: 11 } }]],
    ['max_bins 256', [{ name: 'gb', family: 'gradient_boosting', params: { max_bins: 256 } }]],
  ];

  it.each(valid)('both accept %s', (_name, doc) => {
    expect(candidatesSchema(doc), JSON.stringify(candidatesSchema.errors)).toBe(true);
    expect(codeAccepts(parseCandidateSpecs, doc)).toBe(true);
  });

  it.each(invalid)('both refuse %s', (_name, doc) => {
    expect(candidatesSchema(doc)).toBe(false);
    expect(codeAccepts(parseCandidateSpecs, doc)).toBe(false);
  });

  it('the code alone refuses two candidates of one name', () => {
    const doc = [
      { name: 'a', family: 'ridge' },
      { name: 'a', family: 'ridge', params: { alpha: 2 } },
    ];
    expect(candidatesSchema(doc)).toBe(true);
    expect(() => parseCandidateSpecs(doc)).toThrow('[1].name: "a" is used by an earlier candidate');
  });
});

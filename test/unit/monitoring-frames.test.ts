/**
 * The frames a monitoring run compares, on real columns: vega-datasets' cars (test/fixtures/
 * drift-cars) as a JSON reference and a CSV window whose `Origin` categories come in another
 * order, with missing values in `Origin`, `Horsepower` and `Miles_per_Gallon`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DataContract, readContractFile } from '../../lambdas/core/data';
import {
  type CategoricalColumnDrift,
  chiSquareTest,
  isColumnError,
  jensenShannonDistance,
  type NumericColumnDrift,
} from '../../lambdas/core/drift';
import { loadMonitoringFrames, measureDrift } from '../../lambdas/core/monitoring';
import { PROJECT_ROOT } from '../support/project-paths';

const FIXTURE = join(PROJECT_ROOT, 'test/fixtures/drift-cars');
const bytes = (text: string, name: string) => ({
  bytes: new TextEncoder().encode(text),
  format: name.endsWith('.json') ? ('json' as const) : ('csv' as const),
  source: name,
});

let referenceJson: string;
let currentCsv: string;
let contract: DataContract;

/** The fixture's cells as plain strings and nulls, read here without the project's loaders. */
function rawColumn(name: string): { reference: (string | null)[]; current: (string | null)[] } {
  const reference = (JSON.parse(referenceJson) as Record<string, unknown>[]).map((row) =>
    row[name] === null ? null : String(row[name]),
  );
  const [header, ...lines] = currentCsv.trim().split('\n');
  const at = (header ?? '').split(',').indexOf(name);
  const current = lines.map((line) => {
    const cell = line.split(',')[at] ?? '';
    return cell === '' ? null : cell;
  });
  return { reference, current };
}

beforeAll(async () => {
  referenceJson = await readFile(join(FIXTURE, 'reference.json'), 'utf8');
  currentCsv = await readFile(join(FIXTURE, 'current.csv'), 'utf8');
  contract = await readContractFile(join(FIXTURE, 'input_schema.json'));
});

describe('monitoring frames on the cars fixture', () => {
  it('compares Origin (JSON against CSV) by its category strings, missing values counted apart', async () => {
    const frames = await loadMonitoringFrames({
      reference: bytes(referenceJson, 'reference.json'),
      current: bytes(currentCsv, 'current.csv'),
      contract,
    });
    const { result } = measureDrift(frames);

    const origin = result.columns.Origin as CategoricalColumnDrift;
    const raw = rawColumn('Origin');
    const keys = ['Europe', 'Japan', 'USA'];
    const count = (values: (string | null)[]) => keys.map((key) => values.filter((v) => v === key).length);
    const chi = chiSquareTest(count(raw.reference), count(raw.current));
    expect(origin).toMatchObject({
      kind: 'categorical',
      reference_rows: 212,
      reference_missing: 11,
      current_rows: 114,
      current_missing: 5,
      new_categories: [],
      absent_categories: [],
    });
    expect(origin.chi2_statistic).toBeCloseTo(chi.statistic, 10);
    expect(origin.chi2_pvalue).toBeCloseTo(chi.pvalue, 14);
    expect(origin.jensenshannon).toBeCloseTo(
      jensenShannonDistance(count(raw.reference), count(raw.current)),
      12,
    );
  });

  it('measures numeric columns on their present values and counts the missing ones', async () => {
    const frames = await loadMonitoringFrames({
      reference: bytes(referenceJson, 'reference.json'),
      current: bytes(currentCsv, 'current.csv'),
      contract,
    });

    const { result } = measureDrift(frames);

    expect(result.columns.Horsepower).toMatchObject({
      kind: 'numeric',
      reference_rows: 221,
      reference_missing: 2,
      current_rows: 115,
      current_missing: 4,
    });
    expect((result.columns.Horsepower as NumericColumnDrift).ks_pvalue).toBeLessThan(1e-6);
    // The target is not a feature: it is not compared without predictions.
    expect(Object.keys(result.columns)).toEqual([
      'Origin',
      'Cylinders',
      'Horsepower',
      'Weight_in_lbs',
      'Acceleration',
    ]);
  });

  it('matches categories by name when the frames code them differently (a window without Europe)', async () => {
    const withoutEurope = currentCsv
      .split('\n')
      .filter((line) => !line.startsWith('Europe,'))
      .join('\n');

    const frames = await loadMonitoringFrames({
      reference: bytes(referenceJson, 'reference.json'),
      current: bytes(withoutEurope, 'current.csv'),
      contract,
    });
    const { result } = measureDrift(frames);

    // The premise: code 0 is Europe in the reference and Japan in the window.
    const levels = (column: unknown) => (column as { levels?: readonly string[] }).levels;
    expect(levels(frames.reference.columns.get('Origin'))).toEqual(['Europe', 'Japan', 'USA']);
    expect(levels(frames.current.columns.get('Origin'))).toEqual(['Japan', 'USA']);
    const raw = rawColumn('Origin');
    const keys = ['Europe', 'Japan', 'USA'];
    const count = (values: (string | null)[]) => keys.map((key) => values.filter((v) => v === key).length);
    const current = count(raw.current.filter((value) => value !== 'Europe'));
    const chi = chiSquareTest(count(raw.reference), current);
    expect(result.columns.Origin).toMatchObject({ absent_categories: ['Europe'], new_categories: [] });
    expect((result.columns.Origin as CategoricalColumnDrift).chi2_statistic).toBeCloseTo(chi.statistic, 10);
  });

  it('names the categories a window gained and lost', async () => {
    const renamed = currentCsv.replaceAll('\nEurope,', '\nGermany,');

    const { result } = measureDrift(
      await loadMonitoringFrames({
        reference: bytes(referenceJson, 'reference.json'),
        current: bytes(renamed, 'current.csv'),
        contract,
      }),
    );

    expect(result.columns.Origin).toMatchObject({
      new_categories: ['Germany'],
      absent_categories: ['Europe'],
      chi2_pvalue: 0,
      drifted: true,
    });
  });

  it('compares predicted class labels read as numbers with a categorical target as categories', async () => {
    // A classifier of the number of cylinders, its target a category column ("4", "6", "8").
    const cylinders: DataContract = {
      task: 'classification',
      target: 'Cylinders',
      columns: contract.columns.map((column) =>
        column.name === 'Cylinders' ? { name: 'Cylinders', type: 'category' } : column,
      ),
    };
    // A model that answers 4 for every car: the labels read back as numbers.
    const predictions = ['row_id,label', ...Array.from({ length: 119 }, (_, i) => `${i},4`)].join('\n');

    const frames = await loadMonitoringFrames({
      reference: bytes(referenceJson, 'reference.json'),
      current: bytes(currentCsv, 'current.csv'),
      predictions: bytes(predictions, 'predictions.csv'),
      contract: cylinders,
    });
    const { result } = measureDrift(frames);

    const label = result.columns.label;
    expect(label && isColumnError(label)).toBe(false);
    expect(label).toMatchObject({
      role: 'prediction',
      kind: 'categorical',
      current_rows: 119,
      new_categories: [],
      drifted: true,
    });
    expect((label as CategoricalColumnDrift).absent_categories).toEqual(expect.arrayContaining(['6', '8']));
    expect(result.prediction_drifted).toBe(true);
    expect(result.notes).toContain(
      'prediction column "label" was read as numbers and is compared as categories, as its baseline in the reference',
    );
  });
});

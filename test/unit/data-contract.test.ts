import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  contractVersion,
  DataError,
  featureNames,
  parseContract,
  parseContractJson,
  readContractFile,
} from '../../lambdas/core/data';

const weather = {
  name: 'weather',
  task: 'classification',
  target: 'weather',
  time_column: 'date',
  columns: [
    { name: 'date', type: 'datetime' },
    { name: 'precipitation', type: 'number', min: 0, description: 'mm' },
    { name: 'wind', type: 'number', nullable: true },
    { name: 'weather', type: 'category', values: ['rain', 'sun'] },
    { name: 'station', type: 'category' },
  ],
};

function contractError(input: unknown): DataError {
  try {
    parseContract(input);
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error('the contract parsed');
}

function withColumn(index: number, patch: Record<string, unknown>) {
  return { ...weather, columns: weather.columns.map((c, i) => (i === index ? { ...c, ...patch } : c)) };
}

describe('parseContract', () => {
  it('keeps every field of a valid contract', () => {
    const contract = parseContract(weather);

    expect(contract.task).toBe('classification');
    expect(contract.time_column).toBe('date');
    expect(contract.columns[1]).toEqual({ name: 'precipitation', type: 'number', min: 0, description: 'mm' });
    expect(contract.columns[3]?.values).toEqual(['rain', 'sun']);
  });

  it('names the column index and field of an unknown type, with the value given', () => {
    const error = contractError(withColumn(1, { type: 'float' }));

    expect(error.code).toBe('INVALID_CONTRACT');
    expect(error.field).toBe('columns[1].type');
    expect(error.message).toContain('columns[1].type');
    expect(error.message).toContain('"float"');
  });

  it('names a misspelt key instead of ignoring it', () => {
    const error = contractError(withColumn(2, { nulable: true }));

    expect(error.field).toBe('columns[2]');
    expect(error.message).toContain('nulable');
  });

  it('names a missing required field', () => {
    const { task: _task, ...withoutTask } = weather;

    const error = contractError(withoutTask);

    expect(error.field).toBe('task');
    expect(error.message).toMatch(/task: required/);
  });

  it('rejects a target that is not a column', () => {
    const error = contractError({ ...weather, target: 'label' });

    expect(error.field).toBe('target');
    expect(error.message).toContain('target "label" is not one of the columns');
  });

  it('rejects a regression target that is not numeric', () => {
    const error = contractError({ ...weather, task: 'regression' });

    expect(error.field).toBe('target');
    expect(error.message).toContain('regression target must be a number or integer column');
  });

  it('rejects a time column that is not a column or not a time', () => {
    expect(contractError({ ...weather, time_column: 'day' }).field).toBe('time_column');
    expect(contractError({ ...weather, time_column: 'station' }).message).toContain(
      'time_column must be a datetime, integer or number column; "station" is category',
    );
  });

  it('rejects duplicate names, bounds on non-numeric columns, min above max and values on numbers', () => {
    expect(contractError(withColumn(2, { name: 'precipitation' })).field).toBe('columns[2].name');
    expect(contractError(withColumn(0, { min: 0 })).field).toBe('columns[0].min');
    expect(contractError(withColumn(1, { min: 5, max: 1 })).message).toContain('min 5 is above max 1');
    expect(contractError(withColumn(1, { values: ['a'] })).field).toBe('columns[1].values');
    expect(contractError(withColumn(3, { values: ['rain', 'rain'] })).message).toContain(
      'duplicate allowed value "rain"',
    );
  });

  it('rejects a contract with no feature besides the target and time column', () => {
    const error = contractError({
      ...weather,
      columns: [weather.columns[0], weather.columns[3]],
    });

    expect(error.field).toBe('columns');
  });

  it('reports all problems at once', () => {
    const error = contractError({ ...withColumn(0, { type: 'date' }), task: 'clustering' });

    expect(error.message).toContain('task:');
    expect(error.message).toContain('columns[0].type:');
  });

  it('names the file when the JSON does not parse', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'contract-'));
    const path = join(dir, 'input_schema.json');
    await writeFile(path, '{"task": ');

    await expect(readContractFile(path)).rejects.toMatchObject({
      code: 'INVALID_CONTRACT',
      details: { source: path },
    });
    await expect(readContractFile(join(dir, 'absent.json'))).rejects.toMatchObject({ code: 'READ_FAILED' });
    expect(() => parseContractJson('[]', 'x.json')).toThrow(/x.json: invalid data contract/);
  });
});

describe('featureNames', () => {
  it('is every column but the target and the time column, in contract order', () => {
    expect(featureNames(parseContract(weather))).toEqual(['precipitation', 'wind', 'station']);
  });
});

describe('contractVersion', () => {
  it('does not depend on key order, and changes with the content', () => {
    const { columns, target, time_column, task, name } = weather;
    const reordered = parseContract({ columns, target, time_column, task, name });
    const changed = parseContract(withColumn(1, { min: 1 }));

    expect(contractVersion(parseContract(weather))).toMatch(/^sha256-[0-9a-f]{16}$/);
    expect(contractVersion(reordered)).toBe(contractVersion(parseContract(weather)));
    expect(contractVersion(changed)).not.toBe(contractVersion(parseContract(weather)));
    expect(contractVersion(parseContract({ ...weather, version: '3' }))).toBe('3');
  });
});

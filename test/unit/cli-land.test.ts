/**
 * `mlops land`'s checks before anything is written (the file, its format, the contract, the rows
 * against it), the batch and key layout the data pipeline reads, and the next command. Landing in
 * the local S3 endpoint is in test/integration/cli-land.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextCommand } from '../../bin/cli/land-command';
import { batchName, landingKeys, prepareLanding } from '../../bin/cli/landing';
import { CliError } from '../../bin/cli/output';
import { ROOT } from '../../localstack/services/services';

const IRIS = join(ROOT, 'lambdas/core/datasets/iris');
let dir: string;
let contract: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'land-unit-'));
  contract = await readFile(join(IRIS, 'input_schema.json'), 'utf8');
  await writeFile(join(dir, 'c.json'), contract);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).exitCode).toBe(2);
  return error as CliError;
}

describe('landing layout', () => {
  it('names batches by UTC time so they sort newest last, and keys them under landing/<dataset>/', () => {
    expect(batchName(new Date('2026-12-03T16:15:02.123Z'))).toBe('2026-12-03T161502Z');
    expect(batchName(new Date('2026-12-03T09:00:00Z')) < batchName(new Date('2026-12-03T10:00:00Z'))).toBe(
      true,
    );
    expect(landingKeys('sales', '2025-06-01', '/home/me/data/sales.csv')).toEqual({
      prefix: 'landing/sales/2025-06-01/',
      key: 'landing/sales/2025-06-01/sales.csv',
    });
  });

  it('prints the run data command for the batch, with the bucket and stage under --aws', () => {
    const landed = { bucket: 'my-landing', prefix: 'landing/sales/b1/', key: 'landing/sales/b1/s.csv' };
    expect(nextCommand({ dataset: 'sales' }, landed)).toBe(
      'mlops run data --dataset sales --landing-key landing/sales/b1/',
    );
    expect(nextCommand({ dataset: 'sales', aws: true, stage: 'prod' }, landed)).toBe(
      'mlops run data --aws --stage prod --dataset sales --landing-key s3://my-landing/landing/sales/b1/',
    );
  });
});

describe('prepareLanding', () => {
  it('reads the file, its contract and counts the rows that fit', async () => {
    const iris = await readFile(join(IRIS, 'iris.csv'), 'utf8');
    await writeFile(join(dir, 'some.csv'), `${iris.trimEnd()}\n5,3,1,99,setosa\n`);

    const prepared = await prepareLanding(join(dir, 'some.csv'), 'sales', join(dir, 'c.json'));

    expect(prepared.format).toBe('csv');
    expect(prepared.contractText).toBe(contract);
    expect(prepared.rows).toEqual({ input: 151, valid: 150, quarantined: 1 });
    expect(prepared.firstRejection).toMatch(/^row 151: column "petal_width" value "99" is above max 30$/);
  });

  it("uses the bundled dataset's contract for a bundled name and uploads none", async () => {
    const prepared = await prepareLanding(join(IRIS, 'iris.csv'), 'iris');
    // iris.csv sits beside input_schema.json: that one is found first and travels with the data.
    expect(prepared.contractSource).toBe(join(IRIS, 'input_schema.json'));
    await writeFile(join(dir, 'alone.csv'), await readFile(join(IRIS, 'iris.csv')));
    const alone = await prepareLanding(join(dir, 'alone.csv'), 'iris');
    expect(alone.contractSource).toBe('bundled:iris');
    expect(alone.contractText).toBeUndefined();
  });

  it.each([
    ['notes.txt', undefined, /^<file>: .*notes\.txt: cannot tell the data format from the extension/],
    ['absent.parquet', undefined, /^<file>: cannot read .*absent\.parquet: no such file$/],
    ['input_schema.json', undefined, /is a data contract, not data: pass it with --contract$/],
    ['some.csv', 'nothing.json', /^--contract: cannot read .*nothing\.json: no such file$/],
    [
      'some.csv',
      'bad-type.json',
      /^--contract: .*bad-type\.json: invalid data contract\n\s+columns\[0\]\.type: .*got "float"/,
    ],
    ['some.csv', 'bad-target.json', /target: target "kind" is not one of the columns/],
    ['unknown.csv', undefined, /^no data contract for sales: pass --contract <file>.*mlops contract infer/],
    ['wrong.csv', 'c.json', /^.*wrong\.csv does not fit the contract .*c\.json: .*"sepal_length"/],
    [
      'rubbish.csv',
      'c.json',
      /none of its 2 rows fits the contract .*\(first: row 1: column "sepal_length" value "x"/,
    ],
  ])('refuses %s (contract %s)', async (file, contractFile, message) => {
    await writeFile(join(dir, 'notes.txt'), 'a\n1\n');
    await writeFile(join(dir, 'input_schema.json'), contract);
    await writeFile(join(dir, 'bad-type.json'), contract.replace('"type": "number"', '"type": "float"'));
    await writeFile(
      join(dir, 'bad-target.json'),
      contract.replace('"target": "species"', '"target": "kind"'),
    );
    await writeFile(join(dir, 'wrong.csv'), 'a,b\n1,2\n');
    await writeFile(
      join(dir, 'rubbish.csv'),
      'sepal_length,sepal_width,petal_length,petal_width,species\nx,1,1,1,setosa\ny,1,1,1,setosa\n',
    );
    const sub = await mkdtemp(join(dir, 'alone-'));
    await writeFile(join(sub, 'unknown.csv'), 'a,b\n1,2\n');
    const path = file === 'unknown.csv' ? join(sub, file) : join(dir, file);

    const error = await failure(
      prepareLanding(path, 'sales', contractFile === undefined ? undefined : join(dir, contractFile)),
    );

    expect(error.message).toMatch(message);
  });
});

/**
 * A user's own CSV from `mlops contract infer` to a published dataset: the drafted contract is
 * accepted by `mlops land` and by the data pipeline, as processes against the local services.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContractJson } from '../../lambdas/core/data';
import { mlops } from '../support/entry-point';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;

/** 60 customers; a few cells missing in every column but the id. */
function customersCsv(): string {
  const cities = ['Lyon', 'Paris', 'Nice'];
  const lines = ['customer_id,age,income,city,member,churned'];
  for (let i = 0; i < 60; i++) {
    const age = i % 11 === 3 ? '' : String(20 + ((i * 7) % 45));
    const income = i % 13 === 5 ? '' : (30000 + ((i * 977) % 50000) + 0.5).toString();
    const city = i % 17 === 2 ? '' : (cities[i % 3] as string);
    const member = i % 19 === 4 ? '' : String(i % 2 === 0);
    lines.push(`c-${1000 + i},${age},${income},${city},${member},${(i * 5) % 7 < 3 ? 'yes' : 'no'}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('mlops contract infer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-contract-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('drafts a contract the land command and the data pipeline accept', async () => {
    const dataset = `customers-${SUFFIX}`;
    const csv = join(dir, 'customers.csv');
    const contractFile = join(dir, 'customers.contract.json');
    await writeFile(csv, customersCsv());

    const infer = await mlops([
      'contract',
      'infer',
      csv,
      '--dataset',
      dataset,
      '--target',
      'churned',
      '-o',
      contractFile,
    ]);

    expect(infer.status, infer.stderr).toBe(0);
    expect(infer.stdout).toBe('');
    expect(infer.stderr).toContain(
      'note: left out customer_id: 60 distinct strings in 60 rows, an id rather than a feature',
    );
    const contract = parseContractJson(await readFile(contractFile, 'utf8'));
    expect(contract).toMatchObject({ name: dataset, task: 'classification', target: 'churned' });
    expect(contract.columns.map((c) => [c.name, c.type, c.nullable ?? false])).toEqual([
      ['age', 'integer', true],
      ['income', 'number', true],
      ['city', 'category', true],
      ['member', 'boolean', true],
      ['churned', 'category', false],
    ]);

    const land = await mlops(['land', csv, '--dataset', dataset, '--contract', contractFile], {
      timeoutMs: 120_000,
    });
    expect(land.status, land.stderr).toBe(0);
    expect(land.stderr).toMatch(/60 rows, 60 fit the contract/);
    const next = /^next: mlops (run data .*)$/m.exec(land.stdout)?.[1];
    const run = await mlops((next as string).split(' '), { timeoutMs: 120_000 });

    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^dataset ${dataset} version sha256-[0-9a-f]+ published, 60 valid rows$`, 'm'),
    );
  });

  it('prints the draft on stdout, and names the bad option or file', async () => {
    const csv = join(dir, 'small.csv');
    await writeFile(csv, 'x,y\n1,a\n2,b\n3,a\n');

    const printed = await mlops(['contract', 'infer', csv]);
    expect(printed.status, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual({
      name: 'small',
      task: 'classification',
      target: 'y',
      columns: [
        { name: 'x', type: 'integer', min: 1, max: 3 },
        { name: 'y', type: 'category', values: ['a', 'b'] },
      ],
    });
    expect(printed.stderr).toBe('note: target: y (the last column; choose another with --target)\n');

    for (const [args, message] of [
      [[csv, '--target', 'z'], 'mlops: --target: target "z" is not a column of the data (x, y)\n'],
      [[csv, '--task', 'ranking'], 'mlops: --task must be classification or regression, got "ranking"\n'],
      [
        [join(dir, 'absent.csv')],
        `mlops: cannot read ${join(dir, 'absent.csv')}: ENOENT: no such file or directory, open '${join(dir, 'absent.csv')}'\n`,
      ],
      [
        [join(dir, 'notes.txt')],
        expect.stringMatching(/notes\.txt: cannot tell the data format from the extension/),
      ],
    ] as const) {
      const refused = await mlops(['contract', 'infer', ...args]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toEqual(message);
    }
  });
});

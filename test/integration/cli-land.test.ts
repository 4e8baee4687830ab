/**
 * `mlops land` and `mlops run data --file` as a user runs them, against the local S3 endpoint:
 * the file and its contract end up where the data pipeline reads, the printed next command
 * publishes them, and bad input writes nothing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameToParquet, loadFrame, parseContractJson } from '../../lambdas/core/data';
import { ensureLocalBuckets, LOCAL_DEFAULTS } from '../../localstack/runner/pipelines';
import { ROOT } from '../../localstack/services/services';
import { mlops } from '../support/entry-point';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const STACK_TRACE = /^\s+at /m;
const IRIS = join(ROOT, 'lambdas/core/datasets/iris');
const BUCKET = LOCAL_DEFAULTS.LANDING_BUCKET;

describe('mlops land', () => {
  const s3 = new S3Client({
    endpoint: process.env.AWS_ENDPOINT_URL,
    region: process.env.AWS_REGION,
    forcePathStyle: true,
  });
  let dir: string;
  let contractText: string;
  const keysUnder = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? [])
      .map((object) => object.Key ?? '')
      .sort();
  const text = async (key: string) =>
    (await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString()) ??
    '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-land-'));
    contractText = await readFile(join(IRIS, 'input_schema.json'), 'utf8');
    await writeFile(join(dir, 'iris.contract.json'), contractText);
    await ensureLocalBuckets(s3, [BUCKET]);
  });
  afterAll(async () => {
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('lands a CSV and its contract, and the next command it prints publishes them', async () => {
    const dataset = `land-csv-${SUFFIX}`;
    const csv = join(dir, 'flowers.csv');
    const iris = await readFile(join(IRIS, 'iris.csv'), 'utf8');
    await writeFile(csv, `${iris.trimEnd()}\n5.0,3.0,1.4,0.2,tulip\n`);

    const land = await mlops(
      ['land', csv, '--dataset', dataset, '--contract', join(dir, 'iris.contract.json')],
      {
        timeoutMs: 120_000,
      },
    );

    expect(land.status, land.stderr).toBe(0);
    expect(land.stderr).toMatch(
      /151 rows, 150 fit the contract .*1 will be quarantined \(first: row 151: column "species" value "tulip"/,
    );
    const key = /^landed s3:\/\/mlops-local-landing\/(landing\/\S+\/flowers\.csv)$/m.exec(land.stdout)?.[1];
    expect(key, land.stdout).toMatch(
      new RegExp(`^landing/${dataset}/\\d{4}-\\d\\d-\\d\\dT\\d{6}Z/flowers\\.csv$`),
    );
    const prefix = (key as string).replace(/flowers\.csv$/, '');
    expect(await keysUnder(`landing/${dataset}/`)).toEqual([
      `${prefix}flowers.csv`,
      `${prefix}input_schema.json`,
    ]);
    expect(await text(`${prefix}input_schema.json`)).toBe(contractText);
    const next = /^next: (mlops run data .*)$/m.exec(land.stdout)?.[1];
    expect(next).toBe(`mlops run data --dataset ${dataset} --landing-key ${prefix}`);

    const run = await mlops((next as string).split(' ').slice(1), { timeoutMs: 120_000 });

    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^dataset ${dataset} version sha256-[0-9a-f]+ published, 150 valid rows$`, 'm'),
    );
  });

  it('lands JSON Lines and Parquet, the contract taken from input_schema.json beside the file', async () => {
    const frame = await loadFrame(join(IRIS, 'iris.csv'), { contract: parseContractJson(contractText) });
    const jsonl = (await readFile(join(IRIS, 'iris.csv'), 'utf8'))
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [a, b, c, d, species] = line.split(',');
        return JSON.stringify({
          sepal_length: Number(a),
          sepal_width: Number(b),
          petal_length: Number(c),
          petal_width: Number(d),
          species,
        });
      })
      .join('\n');
    await writeFile(join(dir, 'input_schema.json'), contractText);
    await writeFile(join(dir, 'rows.jsonl'), `${jsonl}\n`);
    await writeFile(join(dir, 'rows.parquet'), frameToParquet(frame));

    for (const file of ['rows.jsonl', 'rows.parquet']) {
      const dataset = `land-${file.split('.')[1]}-${SUFFIX}`;
      const land = await mlops(
        ['land', join(dir, file), '--dataset', dataset, '--batch', '2025-06-01', '--json'],
        {
          timeoutMs: 120_000,
        },
      );

      expect(land.status, land.stderr).toBe(0);
      const result = JSON.parse(land.stdout.trim()) as Record<string, unknown>;
      expect(result).toEqual({
        bucket: BUCKET,
        prefix: `landing/${dataset}/2025-06-01/`,
        key: `landing/${dataset}/2025-06-01/${file}`,
        contractKey: `landing/${dataset}/2025-06-01/input_schema.json`,
        rows: { input: 150, valid: 150, quarantined: 0 },
        next: `mlops run data --dataset ${dataset} --landing-key landing/${dataset}/2025-06-01/`,
      });
      expect(await keysUnder(`landing/${dataset}/`)).toHaveLength(2);
    }
  });

  it('rejects bad input with one line naming the file or field, exit 2, and writes nothing', async () => {
    const dataset = `land-bad-${SUFFIX}`;
    const csv = join(dir, 'flowers.csv');
    await writeFile(join(dir, 'notes.txt'), 'a,b\n1,2\n');
    await writeFile(
      join(dir, 'broken.contract.json'),
      contractText.replace('"type": "number"', '"type": "float"'),
    );
    await writeFile(join(dir, 'truncated.contract.json'), contractText.slice(0, 40));
    await writeFile(join(dir, 'other.csv'), 'a,b\n1,2\n');
    const cases: [string[], RegExp][] = [
      [
        [join(dir, 'notes.txt')],
        /notes\.txt: cannot tell the data format from the extension; expected one of \.csv/,
      ],
      [[join(dir, 'missing.csv')], /cannot read .*missing\.csv: no such file/],
      [
        [csv, '--contract', join(dir, 'broken.contract.json')],
        /--contract: .*broken\.contract\.json: invalid data contract\n\s+columns\[0\]\.type: .*got "float"/,
      ],
      [
        [csv, '--contract', join(dir, 'truncated.contract.json')],
        /truncated\.contract\.json: not valid JSON/,
      ],
      [
        [join(dir, 'other.csv'), '--contract', join(dir, 'iris.contract.json')],
        /other\.csv does not fit the contract .*sepal_length/,
      ],
      [[csv, '--dataset', 'no/slashes'], /--dataset must be a name of letters/],
    ];
    for (const [args, message] of cases) {
      const withDataset = args.includes('--dataset') ? args : [...args, '--dataset', dataset];
      const land = await mlops(['land', ...withDataset], { timeoutMs: 60_000 });

      expect(land.status, land.stderr).toBe(2);
      expect(land.stderr).toMatch(message);
      expect(land.stderr).not.toMatch(STACK_TRACE);
    }
    expect(await keysUnder(`landing/${dataset}/`)).toEqual([]);
  });

  it('mlops run data --file lands the file, then publishes it', async () => {
    const dataset = `land-run-${SUFFIX}`;

    const run = await mlops(
      [
        'run',
        'data',
        '--dataset',
        dataset,
        '--file',
        join(IRIS, 'iris.csv'),
        '--contract',
        join(dir, 'iris.contract.json'),
        '--json',
      ],
      { timeoutMs: 120_000 },
    );

    expect(run.status, run.stderr).toBe(0);
    const landed = /^landed s3:\/\/mlops-local-landing\/(landing\/\S+\/)iris\.csv$/m.exec(run.stderr)?.[1];
    expect(landed, run.stderr).toBeDefined();
    const result = JSON.parse(run.stdout.trim()) as { status: string; output: { dataset: { name: string } } };
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: { dataset: { name: dataset, rowCount: 150 } },
    });
    expect(await keysUnder(landed as string)).toEqual([`${landed}input_schema.json`, `${landed}iris.csv`]);
  });

  it('mlops run data --file with a bad option lands nothing', async () => {
    const dataset = `land-run-bad-${SUFFIX}`;

    const run = await mlops(
      ['run', 'data', '--dataset', dataset, '--file', join(IRIS, 'iris.csv'), '--bundled', 'iris'],
      { timeoutMs: 60_000 },
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--bundled and --file are two sources: give one of them/);
    expect(await keysUnder(`landing/${dataset}/`)).toEqual([]);
  });
});

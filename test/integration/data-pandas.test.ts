/** Our Parquet and CSV files against pandas (localstack/.venv): the loaders themselves are in test/unit/data-loaders.test.ts. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameDigest, loadFrame, writeFrameFile } from '../../lambdas/core/data';
import { MIXED_CONTRACT, MIXED_CSV, MIXED_ROWS } from '../support/data-fixtures';
import { PYTHON } from '../support/project-paths';

describe.skipIf(!existsSync(PYTHON))('Parquet and CSV interoperate with pandas', () => {
  it('pandas reads our Parquet with its types, and we read pandas files to the same digest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'data-pandas-'));
    const frame = await loadFrame(
      { bytes: Buffer.from(MIXED_CSV, 'utf8'), format: 'csv' },
      { contract: MIXED_CONTRACT },
    );
    await writeFrameFile(join(dir, 'ours.parquet'), frame, { contract: MIXED_CONTRACT });
    const script = `
import json, sys, pandas as pd
d = sys.argv[1]
df = pd.read_parquet(d + '/ours.parquet')
print(json.dumps({'dtypes': {k: str(v) for k, v in df.dtypes.items()}, 'rows': len(df),
                  'height_nan': int(df.height.isna().sum()), 'note': [None if pd.isna(x) else x for x in df.note]}))
df.to_parquet(d + '/pandas.parquet', index=False)
df.to_csv(d + '/pandas.csv', index=False, date_format='%Y-%m-%dT%H:%M:%S.%fZ')
`;

    const report = JSON.parse(execFileSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' }));
    const fromPandasParquet = await loadFrame(join(dir, 'pandas.parquet'), { contract: MIXED_CONTRACT });
    const fromPandasCsv = await loadFrame(join(dir, 'pandas.csv'), { contract: MIXED_CONTRACT });

    expect(report.rows).toBe(MIXED_ROWS);
    expect(report.dtypes).toMatchObject({ id: 'int64', height: 'float64', active: 'bool' });
    expect(report.dtypes.label).toMatch(/^(object|str|string)$/);
    expect(report.dtypes.when).toMatch(/^datetime64\[(ms|us|ns)/);
    expect(report.height_nan).toBe(1);
    expect(report.note).toEqual(['plain', 'with, comma', 'say "hi"', 'two\nlines', null, 'Zürich ☂']);
    expect(frameDigest(fromPandasParquet)).toBe(frameDigest(frame));
    expect(frameDigest(fromPandasCsv)).toBe(frameDigest(frame));
  });
});

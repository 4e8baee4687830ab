/**
 * `mlops run train|infer|monitor` without `--model` names the registered model as `mlops train`
 * does: `<dataset>-classifier` or `<dataset>-regressor`, from the published dataset's task (here
 * read through a stand-in; the real read from the local curated bucket runs in
 * test/integration/readme-script.test.ts, where the README's `mlops run train --dataset weather`
 * registers `weather-classifier`).
 */
import { describe, expect, it } from 'vitest';
import { parseRunOptions, type RawRunOptions, type RunRequest } from '../../bin/cli/run-input';
import { localModelName, type PublishedTaskReader } from '../../bin/cli/run-local';
import type { Task } from '../../lambdas/core/data';

const DEFAULTS = { landing: 'mlops-local-landing', predictions: 'mlops-local-predictions' };
const ALERTS = { ALERT_SENDER: 'mlops@example.org', ALERT_RECIPIENTS: 'a@example.org' };

/** Published datasets and their tasks; records what was asked. */
function published(tasks: Record<string, Task>): PublishedTaskReader & { asked: string[] } {
  const asked: string[] = [];
  const read = async (dataset: string, version?: string) => {
    asked.push(version === undefined ? dataset : `${dataset}@${version}`);
    return tasks[dataset];
  };
  return Object.assign(read, { asked });
}

async function modelOf(
  command: string,
  raw: RawRunOptions,
  reader: PublishedTaskReader,
  env: Record<string, string> = {},
): Promise<string | undefined> {
  const request: RunRequest = await parseRunOptions(command, raw, DEFAULTS, { ...ALERTS, ...env });
  if (request.target.mode !== 'local') throw new Error('expected a local run');
  return localModelName({ ...request, target: request.target }, env, reader);
}

describe('the model of a local run without --model', () => {
  it('is <dataset>-regressor for a regression dataset, as mlops train names it', async () => {
    const reader = published({ cars: 'regression' });
    expect(await modelOf('train', { dataset: 'cars' }, reader)).toBe('cars-regressor');
    expect(reader.asked).toEqual(['cars']);
  });

  it('is <dataset>-classifier for a classification dataset, read at the version the run names', async () => {
    const reader = published({ weather: 'classification' });
    expect(await modelOf('train', { dataset: 'weather', datasetVersion: 'sha256-1' }, reader)).toBe(
      'weather-classifier',
    );
    expect(reader.asked).toEqual(['weather@sha256-1']);
  });

  it('follows the dataset of inference (--dataset) and monitoring runs too', async () => {
    const reader = published({ cars: 'regression' });
    expect(await modelOf('infer', { dataset: 'cars' }, reader)).toBe('cars-regressor');
    expect(await modelOf('monitor', { dataset: 'cars' }, reader)).toBe('cars-regressor');
  });

  it('is left to --model or MODEL_NAME when given, without reading the dataset', async () => {
    const reader = published({ cars: 'regression' });
    expect(await modelOf('train', { dataset: 'cars', model: 'mpg' }, reader)).toBeUndefined();
    expect(await modelOf('train', { dataset: 'cars' }, reader, { MODEL_NAME: 'mpg' })).toBeUndefined();
    expect(reader.asked).toEqual([]);
  });

  it("is the runner's default when the run names no dataset or the dataset is not published", async () => {
    const reader = published({});
    expect(await modelOf('train', {}, reader)).toBeUndefined();
    expect(await modelOf('train', { dataset: 'sales' }, reader)).toBeUndefined();
    expect(await modelOf('data', { bundled: 'iris' }, reader)).toBeUndefined();
    expect(reader.asked).toEqual(['sales']);
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultDatasetsDir, readContractFile } from '../../lambdas/core/data';
import { isColumnError } from '../../lambdas/core/drift';
import { MlflowApiError } from '../../lambdas/core/mlflow';
import {
  type AlertEpisodeState,
  type AlertSender,
  type DriftHistoryStore,
  driftHistoryKey,
  type EmailContent,
  type EpisodeStore,
  type MonitoringDeps,
  MonitoringInputError,
  MonitoringRequestError,
  NO_EPISODE,
  PowertoolsDriftMetrics,
  REFERENCE_URI_TAG,
  runMonitoring,
} from '../../lambdas/core/monitoring';
import { FakeTracking } from '../support/lifecycle-fake-tracking';
import { PROJECT_ROOT } from '../support/project-paths';

// runMonitoring with the project's own seams stubbed: MLflow tracking (the lifecycle's in-memory
// fake plus the two artifact calls monitoring adds), the history store, the alert store and
// sender. The EMF emitter is the real one, writing to an array instead of stdout.

class MonitoringTrackingFake extends FakeTracking {
  readonly trackingUri = 'http://mlflow.test:5000';

  async writeArtifact(artifactUri: string, artifactPath: string, content: Uint8Array | string) {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    await (await this.artifactStore(artifactUri)).put(artifactPath, bytes);
  }

  async readArtifact(artifactUri: string, artifactPath = '') {
    return (await this.artifactStore(artifactUri)).get(artifactPath);
  }

  text(uri: string): string {
    const bytes = this.artifacts.get(uri);
    if (!bytes) throw new Error(`no artifact ${uri}`);
    return new TextDecoder().decode(bytes);
  }
}

class MemoryHistory implements DriftHistoryStore {
  readonly objects = new Map<string, string>();
  async put(key: string, body: string) {
    this.objects.set(key, body);
    return `s3://monitoring-bucket/${key}`;
  }
}

class MemoryEpisodes implements EpisodeStore {
  readonly states = new Map<string, AlertEpisodeState>();
  async load(key: string) {
    return this.states.get(key) ?? NO_EPISODE;
  }
  async save(key: string, state: AlertEpisodeState) {
    this.states.set(key, state);
  }
}

class RecordingSender implements AlertSender {
  readonly sent: EmailContent[] = [];
  async send(email: EmailContent) {
    this.sent.push(email);
    return `msg-${this.sent.length}`;
  }
}

const AT = new Date('2026-01-23T02:30:00.000Z');
const irisDir = join(defaultDatasetsDir(), 'iris');
let irisCsv: string;

/** Iris with petal_length + 2 cm and petal_width + 1 cm: two of four features drift. */
function shiftedIris(): string {
  const [header, ...rows] = irisCsv.trim().split('\n');
  const shifted = rows.map((row) => {
    const cells = row.split(',');
    cells[2] = String(Number(cells[2]) + 2);
    cells[3] = String(Number(cells[3]) + 1);
    return cells.join(',');
  });
  return [header, ...shifted].join('\n');
}

const csv = (text: string, name: string) => ({ bytes: new TextEncoder().encode(text), name });

function wiring() {
  const tracking = new MonitoringTrackingFake();
  const history = new MemoryHistory();
  const episodes = new MemoryEpisodes();
  const sender = new RecordingSender();
  const emf: string[] = [];
  const deps: MonitoringDeps = {
    clock: () => AT,
    tracking,
    history,
    // The fixed clock is far from now, which Powertools warns CloudWatch would drop: kept quiet here.
    metrics: new PowertoolsDriftMetrics({ write: (line) => emf.push(line), warn: () => {}, env: {} }),
    alerts: { store: episodes, sender },
  };
  return { tracking, history, episodes, sender, emf, deps };
}

beforeAll(async () => {
  irisCsv = await readFile(join(irisDir, 'iris.csv'), 'utf8');
});

describe('runMonitoring', () => {
  it('detects the shifted petals and records the run in MLflow, the S3 history, EMF and one e-mail', async () => {
    const { tracking, history, sender, emf, deps } = wiring();
    const contract = await readContractFile(join(irisDir, 'input_schema.json'));

    const outcome = await runMonitoring(
      {
        modelName: 'iris-classifier',
        modelVersion: '3',
        reference: join(irisDir, 'iris.csv'),
        current: csv(shiftedIris(), 'window.csv'),
        contract,
      },
      deps,
    );

    // Verdict: petal_length and petal_width drift, the sepals do not; 2/4 = 0.5 > 0.2.
    expect(outcome.drifted).toBe(true);
    expect(outcome.result.share_drifted).toBe(0.5);
    expect(outcome.result.value).toBe(0.5);
    expect(outcome.result.threshold).toBe(0.2);
    expect(outcome.drifted_columns.toSorted()).toEqual(['petal_length', 'petal_width']);
    expect(Object.keys(outcome.result.columns)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
    ]);
    expect(outcome.timestamp).toBe('2026-01-23T02:30:00.000Z');
    expect(outcome.model).toEqual({ name: 'iris-classifier', version: '3' });

    // MLflow: the monitoring experiment, statistics as metrics, settings as params, verdict as tag.
    const [experiment] = [...tracking.experiments.values()];
    expect(experiment?.name).toBe('monitoring-iris-classifier');
    const run = tracking.runs.get(outcome.run_id ?? '');
    expect(run?.info.status).toBe('FINISHED');
    expect(run?.metrics.get('share_drifted')).toBe(0.5);
    expect(run?.metrics.get('drift_value')).toBe(0.5);
    expect(run?.metrics.get('drift.petal_length.drifted')).toBe(1);
    expect(run?.metrics.get('drift.sepal_width.drifted')).toBe(0);
    const petal = outcome.result.columns.petal_length;
    if (!petal || isColumnError(petal) || petal.kind !== 'numeric')
      throw new Error('petal_length not compared');
    expect(run?.metrics.get('drift.petal_length.psi')).toBe(petal.psi);
    expect(run?.metrics.get('drift.petal_length.ks_pvalue')).toBe(petal.ks_pvalue);
    expect(run?.params.get('threshold')).toBe('0.2');
    expect(run?.params.get('drift_metric')).toBe('share_drifted');
    expect(run?.params.get('reference_rows')).toBe('150');
    expect(run?.params.get('current_rows')).toBe('150');
    expect(run?.tags.get('mlops.model.name')).toBe('iris-classifier');
    expect(run?.tags.get('mlops.model.version')).toBe('3');
    expect(run?.tags.get('mlops.drift.verdict')).toBe('drifted');
    const artifactRoot = run?.info.artifact_uri ?? '';
    const html = tracking.text(`${artifactRoot}/drift_report.html`);
    expect(html).toContain('<svg');
    expect(html).toContain('Drift detected');
    expect(JSON.parse(tracking.text(`${artifactRoot}/drift_result.json`)).share_drifted).toBe(0.5);
    expect(outcome.report_uri).toBe(
      `http://mlflow.test:5000/#/experiments/${experiment?.experiment_id}/runs/${outcome.run_id}/artifacts/drift_report.html`,
    );

    // S3 history: date partition, one line per column and the summary last.
    const key = 'monitoring/drift-metrics/dt=2026-01-23/run-20260123T023000000Z.jsonl';
    expect([...history.objects.keys()]).toEqual([key]);
    expect(outcome.metrics_uri).toBe(`s3://monitoring-bucket/${key}`);
    const lines = (history.objects.get(key) ?? '')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(5);
    expect(lines.slice(0, 4).map((line) => line.column)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
    ]);
    expect(lines[2]).toMatchObject({
      record: 'column',
      column: 'petal_length',
      drifted: true,
      psi: petal.psi,
      run_id: outcome.run_id,
      model_name: 'iris-classifier',
    });
    expect(lines[4]).toMatchObject({
      record: 'summary',
      run_at: '2026-01-23T02:30:00.000Z',
      value: 0.5,
      drifted: true,
      report_uri: outcome.report_uri,
    });

    // CloudWatch EMF: DriftValue, ShareDrifted, DriftedColumns by model, and DriftScore by service.
    expect(emf).toHaveLength(2);
    const byModel = JSON.parse(emf[0] ?? '{}');
    expect(byModel._aws.CloudWatchMetrics[0].Namespace).toBe('ServerlessMlops');
    expect(byModel._aws.CloudWatchMetrics[0].Dimensions[0].toSorted()).toEqual(['model', 'service']);
    expect(byModel._aws.Timestamp).toBe(AT.getTime());
    expect(byModel).toMatchObject({
      model: 'iris-classifier',
      service: 'monitoring-pipeline',
      DriftValue: 0.5,
      ShareDrifted: 0.5,
      DriftedColumns: 2,
    });
    const score = JSON.parse(emf[1] ?? '{}');
    expect(score._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
    expect(score.DriftScore).toBe(0.5);

    // One breach e-mail with the value, the time and the report link.
    expect(outcome.alert).toMatchObject({ decision: 'breach', messageId: 'msg-1' });
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0]?.subject).toBe('[drift] iris-classifier v3: share_drifted 0.5000 is over 0.2000');
    expect(sender.sent[0]?.text).toContain('Time: 2026-01-23T02:30:00.000Z');
    expect(sender.sent[0]?.text).toContain(`Drift report: ${outcome.report_uri}`);
  });

  it('sends no second e-mail while the breach lasts and one when it recovers', async () => {
    const { sender, deps } = wiring();
    const contract = await readContractFile(join(irisDir, 'input_schema.json'));
    const request = (current: string) => ({
      modelName: 'iris-classifier',
      modelVersion: '3',
      reference: csv(irisCsv, 'iris.csv'),
      current: csv(current, 'window.csv'),
      contract,
    });

    const first = await runMonitoring(request(shiftedIris()), deps);
    const second = await runMonitoring(request(shiftedIris()), deps);
    const recovered = await runMonitoring(request(irisCsv), deps);

    expect([first.alert.decision, second.alert.decision, recovered.alert.decision]).toEqual([
      'breach',
      'none',
      'recovery',
    ]);
    expect(recovered.drifted).toBe(false);
    expect(recovered.result.value).toBe(0);
    expect(sender.sent.map((email) => email.subject.split(' ')[0])).toEqual(['[drift]', '[recovered]']);
  });

  it('resolves the Production version, its reference data tag and its data contract from the registry', async () => {
    const { tracking, deps } = wiring();
    const contractJson = await readFile(join(irisDir, 'input_schema.json'));
    const version = await tracking.registerFiles(
      'iris-classifier',
      new Map([['data_contract/input_schema.json', contractJson]]),
    );
    await tracking.setModelVersionTag({
      name: 'iris-classifier',
      version,
      key: REFERENCE_URI_TAG,
      value: join(irisDir, 'iris.csv'),
    });
    await tracking.setRegisteredModelAlias('iris-classifier', 'Production', version);

    const outcome = await runMonitoring(
      { modelName: 'iris-classifier', current: csv(shiftedIris(), 'window.csv') },
      deps,
    );

    expect(outcome.model.version).toBe(version);
    expect(outcome.result.reference_rows).toBe(150);
    // The contract came from the model: the target (species) is not compared as a feature.
    expect(Object.keys(outcome.result.columns)).not.toContain('species');
    expect(outcome.result.share_drifted).toBe(0.5);
    expect(tracking.runs.get(outcome.run_id ?? '')?.params.get('reference_source')).toBe(
      join(irisDir, 'iris.csv'),
    );
  });

  it('refuses to run without reference data when the version has no reference tag', async () => {
    const { tracking, deps } = wiring();
    const version = await tracking.registerFiles('iris-classifier', new Map());
    await tracking.setRegisteredModelAlias('iris-classifier', 'Production', version);

    const pending = runMonitoring({ modelName: 'iris-classifier', current: csv(irisCsv, 'w.csv') }, deps);

    await expect(pending).rejects.toThrow(MonitoringRequestError);
    await expect(pending).rejects.toThrow(
      `version ${version} of iris-classifier has no "mlops.reference_uri" tag`,
    );
  });

  it('reports what it could not compare (missing and all-null columns) without failing', async () => {
    const { sender, deps } = wiring();
    const contract = await readContractFile(join(irisDir, 'input_schema.json'));
    // No petal_width column at all, and sepal_width empty in every row.
    const rows = irisCsv
      .trim()
      .split('\n')
      .map((row, i) => {
        const [sl, , pl, , species] = row.split(',');
        return [sl, i === 0 ? 'sepal_width' : '', pl, species].join(',');
      });

    const outcome = await runMonitoring(
      {
        modelName: 'iris-classifier',
        reference: csv(irisCsv, 'iris.csv'),
        current: csv(rows.join('\n'), 'window.csv'),
        contract,
      },
      deps,
    );

    const width = outcome.result.columns.petal_width;
    const sepal = outcome.result.columns.sepal_width;
    expect(width && isColumnError(width) && width.error).toBe('the column is missing from the current data');
    expect(sepal && isColumnError(sepal) && sepal.error).toBe(
      'no statistics: every current window value is missing (150 rows)',
    );
    expect(outcome.result.features_compared).toBe(2);
    expect(outcome.result.notes).toContain('the current data has no column "petal_width"');
    expect(outcome.drifted).toBe(false);
    expect(sender.sent).toHaveLength(0);
  });

  it('judges an empty window unknown and leaves the alert episode alone', async () => {
    const { episodes, sender, deps } = wiring();
    episodes.states.set('iris-classifier', { inBreach: true, alertsSent: 1, since: 'earlier' });
    const contract = await readContractFile(join(irisDir, 'input_schema.json'));

    const outcome = await runMonitoring(
      {
        modelName: 'iris-classifier',
        reference: csv(irisCsv, 'iris.csv'),
        current: csv('', 'empty.csv'),
        contract,
      },
      deps,
    );

    expect(outcome.result.value).toBeNull();
    expect(outcome.result.current_rows).toBe(0);
    expect(outcome.result.notes).toContain(
      'the current window is empty (0 rows): no column could be compared',
    );
    expect(outcome.alert).toEqual({
      decision: 'none',
      skipped: 'no share_drifted value: the alert episode is left as it was',
    });
    expect(sender.sent).toHaveLength(0);
    expect(episodes.states.get('iris-classifier')?.inBreach).toBe(true);
  });

  it('compares predicted labels with the reference labels', async () => {
    const { deps } = wiring();
    const contract = await readContractFile(join(irisDir, 'input_schema.json'));
    // A model that now predicts virginica for everything.
    const predictions = [
      'row_id,label,model_version',
      ...Array.from({ length: 60 }, (_, i) => `${i},virginica,3`),
    ];

    const outcome = await runMonitoring(
      {
        modelName: 'iris-classifier',
        reference: csv(irisCsv, 'iris.csv'),
        current: csv(irisCsv, 'window.csv'),
        predictions: csv(predictions.join('\n'), 'predictions.csv'),
        contract,
      },
      deps,
    );

    expect(Object.keys(outcome.result.columns)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
      'label',
    ]);
    expect(outcome.result.columns.label).toMatchObject({
      role: 'prediction',
      kind: 'categorical',
      drifted: true,
    });
    expect(outcome.result.prediction_drifted).toBe(true);
    expect(outcome.result.share_drifted).toBe(0);
    expect(outcome.rows.predictions).toEqual({ input: 60, valid: 60 });
  });

  it('monitors the cars fixture: Origin strings, missing values counted, their shares as metrics', async () => {
    const { tracking, history, deps } = wiring();
    const cars = join(PROJECT_ROOT, 'test/fixtures/drift-cars');

    const outcome = await runMonitoring(
      {
        modelName: 'cars-mpg',
        reference: join(cars, 'reference.json'),
        current: join(cars, 'current.csv'),
        contract: await readContractFile(join(cars, 'input_schema.json')),
      },
      deps,
    );

    expect(outcome.result.columns.Origin).toMatchObject({
      kind: 'categorical',
      reference_rows: 212,
      reference_missing: 11,
      current_rows: 114,
      current_missing: 5,
      test: 'chisquare',
      drifted: true,
    });
    expect(outcome.result.features_compared).toBe(5);
    const run = tracking.runs.get(outcome.run_id ?? '');
    expect(run?.metrics.get('drift.Origin.reference_missing_share')).toBeCloseTo(11 / 223, 12);
    expect(run?.metrics.get('drift.Horsepower.current_missing_share')).toBeCloseTo(4 / 119, 12);
    expect(run?.metrics.get('drift.Weight_in_lbs.current_missing_share')).toBe(0);
    const html = tracking.text(`${run?.info.artifact_uri ?? ''}/drift_report.html`);
    expect(html).toContain('<th>Missing ref / cur</th>');
    expect(html).toContain('<td>11 (4.93%) / 5 (4.2%)</td>');
    const [key] = [...history.objects.keys()];
    const origin = (history.objects.get(key ?? '') ?? '')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((line) => line.column === 'Origin');
    expect(origin).toMatchObject({ reference_missing: 11, current_missing: 5, absent_categories: [] });
  });

  it('names the file it cannot read', async () => {
    const { deps } = wiring();

    const pending = runMonitoring(
      { modelName: 'iris-classifier', reference: '/nowhere/reference.csv', current: csv(irisCsv, 'w.csv') },
      { ...deps, tracking: undefined },
    );

    await expect(pending).rejects.toThrow(MonitoringInputError);
    await expect(pending).rejects.toThrow(
      'cannot read the reference data /nowhere/reference.csv: no such file',
    );
  });

  it('ends the MLflow run FAILED when logging breaks, and raises', async () => {
    const { tracking, deps } = wiring();
    tracking.logBatch = async () => {
      throw new MlflowApiError('INTERNAL_ERROR', 500, 'database is down', 'POST runs/log-batch');
    };

    const pending = runMonitoring(
      { modelName: 'iris-classifier', reference: csv(irisCsv, 'r.csv'), current: csv(irisCsv, 'c.csv') },
      { ...deps, tracking },
    );

    await expect(pending).rejects.toThrow('database is down');
    expect([...tracking.runs.values()].map((run) => run.info.status)).toEqual(['FAILED']);
  });
});

describe('driftHistoryKey', () => {
  it('partitions by UTC day and names the object after the instant', () => {
    expect(driftHistoryKey('monitoring/drift-metrics/', new Date('2026-12-31T23:59:59.999Z'))).toBe(
      'monitoring/drift-metrics/dt=2026-12-31/run-20261231T235959999Z.jsonl',
    );
    expect(driftHistoryKey('', new Date('2026-01-02T03:04:05.006Z'))).toBe(
      'dt=2026-01-02/run-20260102T030405006Z.jsonl',
    );
  });
});

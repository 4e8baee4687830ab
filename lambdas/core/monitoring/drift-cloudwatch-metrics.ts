/**
 * A monitoring run's CloudWatch metrics, as Powertools EMF lines (CloudWatch turns a Lambda's
 * stdout EMF into metrics; no PutMetricData call, no extra permission):
 *
 * - `DriftValue` (the headline value), `ShareDrifted` and `DriftedColumns`, with dimensions
 *   `service` and `model`, in POWERTOOLS_METRICS_NAMESPACE (default `ServerlessMlops`);
 * - `DriftScore` (the headline value again) with the `service` dimension only: the metric the
 *   dashboard and the drift alarm in lib/observability.ts read (PIPELINE_METRICS.driftScore in
 *   lambdas/steps/pipeline-metrics.ts), which does not know the model's name.
 *
 * Powertools 2.x always prints EMF to its own stdout console (its `logger` option carries only its
 * warnings), which would break a CLI's one-line `--json` stdout. So outside a Lambda, pass
 * `write` and the EMF JSON goes there instead, serialized by Powertools all the same.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const DEFAULT_METRICS_NAMESPACE = 'ServerlessMlops';
export const DEFAULT_METRICS_SERVICE = 'monitoring-pipeline';
export const MODEL_DIMENSION = 'model';

export const DRIFT_CLOUDWATCH_METRICS = {
  value: 'DriftValue',
  shareDrifted: 'ShareDrifted',
  driftedColumns: 'DriftedColumns',
  /** Read by lib/observability.ts's dashboard and alarm, with the `service` dimension only. */
  score: 'DriftScore',
} as const;

export interface DriftMetricFacts {
  readonly modelName: string;
  /** The headline value; null when it could not be computed (then no value metric is sent). */
  readonly value: number | null;
  readonly shareDrifted: number | null;
  readonly driftedColumns: number;
  readonly at: Date;
}

export interface DriftMetricsEmitter {
  emit(facts: DriftMetricFacts): void;
}

type PowertoolsLogger = NonNullable<NonNullable<ConstructorParameters<typeof Metrics>[0]>['logger']>;

export interface PowertoolsDriftMetricsOptions {
  /** @default POWERTOOLS_METRICS_NAMESPACE, else `ServerlessMlops` */
  readonly namespace?: string;
  /** @default POWERTOOLS_SERVICE_NAME, else `monitoring-pipeline` */
  readonly serviceName?: string;
  /** Where EMF lines go; by default Powertools prints them to stdout (what a Lambda needs). */
  readonly write?: (emfJson: string) => void;
  /** Where Powertools' own warnings go. @default stderr */
  readonly warn?: (message: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class PowertoolsDriftMetrics implements DriftMetricsEmitter {
  readonly namespace: string;
  readonly serviceName: string;
  private readonly logger: PowertoolsLogger;

  constructor(private readonly options: PowertoolsDriftMetricsOptions = {}) {
    const env = options.env ?? process.env;
    this.namespace =
      options.namespace ?? (env.POWERTOOLS_METRICS_NAMESPACE?.trim() || DEFAULT_METRICS_NAMESPACE);
    this.serviceName =
      options.serviceName ?? (env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_METRICS_SERVICE);
    const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
    const text = (content: unknown[]) => content.map(String).join(' ');
    this.logger = {
      debug: () => {},
      info: () => {},
      warn: (...content: unknown[]) => warn(text(content)),
      error: (...content: unknown[]) => warn(text(content)),
    };
  }

  emit(facts: DriftMetricFacts): void {
    const byModel = this.metrics();
    byModel.addDimension(MODEL_DIMENSION, facts.modelName);
    if (facts.value !== null)
      byModel.addMetric(DRIFT_CLOUDWATCH_METRICS.value, MetricUnit.NoUnit, facts.value);
    if (facts.shareDrifted !== null) {
      byModel.addMetric(DRIFT_CLOUDWATCH_METRICS.shareDrifted, MetricUnit.NoUnit, facts.shareDrifted);
    }
    byModel.addMetric(DRIFT_CLOUDWATCH_METRICS.driftedColumns, MetricUnit.Count, facts.driftedColumns);
    this.flush(byModel, facts.at);

    if (facts.value !== null) {
      const score = this.metrics();
      score.addMetric(DRIFT_CLOUDWATCH_METRICS.score, MetricUnit.NoUnit, facts.value);
      this.flush(score, facts.at);
    }
  }

  private metrics(): Metrics {
    return new Metrics({ namespace: this.namespace, serviceName: this.serviceName, logger: this.logger });
  }

  private flush(metrics: Metrics, at: Date): void {
    metrics.setTimestamp(at);
    if (!this.options.write) {
      metrics.publishStoredMetrics();
      return;
    }
    this.options.write(JSON.stringify(metrics.serializeMetrics()));
    metrics.clearMetrics();
    metrics.clearDimensions();
  }
}

/**
 * The custom CloudWatch metrics the dashboard and alarms read (lib/observability.ts), named once
 * for their emitters: compute-drift, the predict function and the health-check canary. They emit
 * through Powertools (EMF), in the namespace of POWERTOOLS_METRICS_NAMESPACE with Powertools'
 * default `service` dimension (POWERTOOLS_SERVICE_NAME). The CDK side reads the same names; a test
 * keeps the two in step.
 */
export const PIPELINE_METRICS = {
  namespace: 'ServerlessMlops',
  /** `ComputeDriftOutput.value`, emitted by compute-drift with `service` = `monitoring-pipeline`. */
  driftScore: 'DriftScore',
  /** The version the predict function served, with dimensions `service` = `predict` and `Alias`. */
  servedModelVersion: 'ServedModelVersion',
  /** 1 when GET /health answered 200 in time, else 0 (`service` = `health-check`). */
  healthCheckSuccess: 'HealthCheckSuccess',
  healthCheckLatency: 'HealthCheckLatency',
} as const;

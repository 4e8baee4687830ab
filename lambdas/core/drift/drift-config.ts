/**
 * The drift settings a monitoring entry point reads once from its environment. A bad value stops
 * it there with a message naming the variable and what it accepts.
 *
 * - DRIFT_THRESHOLD: the headline value above which a run counts as drifted, above 0.
 *   @default 0.20 (the reference stack's default; with share_drifted it is a share, at most 1).
 *   Bounds and default: DRIFT_THRESHOLD in ../settings.ts.
 * - DRIFT_METRIC: the headline metric, one of share_drifted, max_psi, max_wasserstein_normed,
 *   max_jensenshannon. @default share_drifted
 * - DRIFT_PSI_BINS: the number of reference-quantile bins for PSI, 2..100. @default 10
 */
import { z } from 'zod';
import { DRIFT_THRESHOLD } from '../settings';
import { DRIFT_METRICS, type DriftMetric } from './drift-result';
import { DEFAULT_PSI_BINS } from './psi';

export interface DriftConfig {
  readonly metric: DriftMetric;
  readonly threshold: number;
  readonly psiBins: number;
}

export const DEFAULT_DRIFT_THRESHOLD: number = DRIFT_THRESHOLD.default;
export const DEFAULT_DRIFT_METRIC: DriftMetric = 'share_drifted';

export class DriftConfigError extends Error {
  override name = 'DriftConfigError';
  constructor(
    message: string,
    /** The environment variable at fault. */
    readonly variable: string,
  ) {
    super(message);
  }
}

function withDefault<T extends z.ZodType>(schema: T, fallback: string) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() ? value.trim() : fallback),
    schema,
  );
}

const ENV = z
  .object({
    DRIFT_METRIC: withDefault(
      z.enum(DRIFT_METRICS as [DriftMetric, ...DriftMetric[]], {
        error: `must be one of ${DRIFT_METRICS.join(', ')}`,
      }),
      DEFAULT_DRIFT_METRIC,
    ),
    DRIFT_THRESHOLD: withDefault(
      z.coerce
        // zod's number() already rejects NaN and ±Infinity.
        .number({ error: 'must be a finite number such as 0.2' })
        .gt(DRIFT_THRESHOLD.exclusiveMin, `must be above ${DRIFT_THRESHOLD.exclusiveMin}`),
      String(DEFAULT_DRIFT_THRESHOLD),
    ),
    DRIFT_PSI_BINS: withDefault(
      z.coerce
        .number({ error: 'must be an integer from 2 to 100' })
        .int('must be an integer from 2 to 100')
        .min(2, 'must be an integer from 2 to 100')
        .max(100, 'must be an integer from 2 to 100'),
      String(DEFAULT_PSI_BINS),
    ),
  })
  .superRefine((value, context) => {
    if (value.DRIFT_METRIC === 'share_drifted' && value.DRIFT_THRESHOLD > DRIFT_THRESHOLD.shareMax) {
      context.addIssue({
        code: 'custom',
        path: ['DRIFT_THRESHOLD'],
        message: `must be at most ${DRIFT_THRESHOLD.shareMax} when DRIFT_METRIC is share_drifted (it is a share of features)`,
      });
    }
  });

/** Reads and validates the drift settings; throws DriftConfigError naming the first bad variable. */
export function loadDriftConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): DriftConfig {
  const parsed = ENV.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const problems = issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const value = env[variable];
      return `${variable} ${issue.message}${value !== undefined ? ` (got ${JSON.stringify(value)})` : ''}`;
    });
    throw new DriftConfigError(
      `Invalid drift configuration: ${problems.join('; ')}`,
      String(issues[0]?.path[0] ?? 'environment'),
    );
  }
  return {
    metric: parsed.data.DRIFT_METRIC,
    threshold: parsed.data.DRIFT_THRESHOLD,
    psiBins: parsed.data.DRIFT_PSI_BINS,
  };
}

/**
 * The settings that more than one layer reads — the CDK stage config (lib/), the Lambdas, the CLI,
 * the local runner and the demo — each defined once: its default, its bounds, its pattern.
 * Plain values and predicates only (no zod, no aws-cdk-lib), so every bundle and `lib/` can import
 * it without dragging anything along.
 */

/** An e-mail address as SES and SNS take it: something@domain.tld, no white space. */
export const EMAIL_ADDRESS_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isEmailAddress(value: string): boolean {
  return EMAIL_ADDRESS_PATTERN.test(value);
}

/**
 * MLflow alias names: ASCII letters, digits, `_` and `-`, at most 255 characters. MLflow also
 * accepts non-ASCII letters (Python's `\w`), but the predict function only follows ASCII aliases,
 * so an alias it could not serve is refused everywhere.
 */
export const ALIAS_NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
export const ALIAS_NAME_RULE = 'letters, digits, underscores or hyphens (at most 255)';

export function isAliasName(value: string): boolean {
  return ALIAS_NAME_PATTERN.test(value);
}

/** MLflow reserves `latest` and `v<digits>` (they address versions in `models:/` URIs). */
export function isReservedAliasName(value: string): boolean {
  return value.toLowerCase() === 'latest' || /^[vV]\d+$/.test(value);
}

/** The alias the predict API and batch inference serve, and `mlops promote` sets by default. */
export const PRODUCTION_ALIAS = 'Production';
/** The alias shadow scoring compares against Production. */
export const CHALLENGER_ALIAS = 'Challenger';

/**
 * What a training run does with its best new version: nothing, set `Challenger`, or set
 * `Production` when it beats the current `Production` on the same holdout (else `Challenger`).
 * The same words for the stage config (`-c promotion=`), the training state machine's
 * `PromotionMode`, `mlops run train --promote` and `mlops train --promote`.
 */
export const PROMOTION_MODES = ['none', 'challenger', 'production'] as const;
export type PromotionMode = (typeof PROMOTION_MODES)[number];

/**
 * Earlier words for a mode, still understood where people type one: `mlops train` and the core
 * called `production` `production-if-better`.
 */
export const RENAMED_PROMOTION_MODES = {
  'production-if-better': 'production',
} as const satisfies Record<string, PromotionMode>;
export type RenamedPromotionMode = keyof typeof RENAMED_PROMOTION_MODES;

export function isPromotionMode(value: string): value is PromotionMode {
  return (PROMOTION_MODES as readonly string[]).includes(value);
}

/** The mode a word names, an earlier word included; undefined for any other word. */
export function promotionModeOf(value: string): PromotionMode | undefined {
  if (isPromotionMode(value)) return value;
  return Object.hasOwn(RENAMED_PROMOTION_MODES, value)
    ? RENAMED_PROMOTION_MODES[value as RenamedPromotionMode]
    : undefined;
}

/** For a renamed word, the line that tells the user its new name; undefined otherwise. */
export function renamedPromotionModeNote(value: string): string | undefined {
  if (!Object.hasOwn(RENAMED_PROMOTION_MODES, value)) return undefined;
  return `promotion mode "${value}" is now called "${RENAMED_PROMOTION_MODES[value as RenamedPromotionMode]}"`;
}

/**
 * The headline drift value above which a monitoring run counts as drifted and alerts: the reference
 * stack's 0.20. Above 0 (at 0 every run with a single drifted column, or any PSI at all, would
 * alert); with the default metric (the share of drifted features) at most 1, while the max_*
 * metrics (PSI, Wasserstein) may exceed 1.
 */
export const DRIFT_THRESHOLD = { default: 0.2, exclusiveMin: 0, shareMax: 1 } as const;

/** Whether a threshold is in bounds for the share_drifted metric: above 0 and at most 1. */
export function isShareDriftThreshold(value: number): boolean {
  return value > DRIFT_THRESHOLD.exclusiveMin && value <= DRIFT_THRESHOLD.shareMax;
}

/**
 * Seconds the predict API trusts a resolved alias before it looks it up again: how long a
 * promotion or a rollback may take to reach the API. At most an hour, so a rollback always lands
 * within the hour (a longer TTL saves nothing worth it: a re-resolution is one conditional GET).
 * A deployment re-resolves at most once a second (`deployedMin`, whole seconds in the stage
 * config); the function itself takes any positive TTL, so local tests and the demo can follow an
 * alias within a fraction of a second. The default is the deployed minimum: the check runs in the
 * background of a request (none waits on it) and costs one conditional S3 GET, so a busy execution
 * environment pays at most one a second (~2.6 M a month, about $1 at S3's GET price) and an idle one
 * nothing, while a moved alias is served within webhook delivery + 1 s.
 */
export const ALIAS_TTL_SECONDS = { default: 1, deployedMin: 1, max: 3600 } as const;

/**
 * Rows one predict request may score (MAX_ROWS). At most 100 000: the call is synchronous and
 * API Gateway gives up after 29 s; more rows are a batch, for the inference pipeline.
 */
export const PREDICT_MAX_ROWS = { default: 1000, max: 100_000 } as const;

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

/** MLflow alias names: letters, digits, `_` and `-`, at most 255 characters. */
export const ALIAS_NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
export const ALIAS_NAME_RULE = 'letters, digits, underscores or hyphens (at most 255)';

export function isAliasName(value: string): boolean {
  return ALIAS_NAME_PATTERN.test(value);
}

/** The alias the predict API and batch inference serve. */
export const PRODUCTION_ALIAS = 'Production';
/** The alias shadow scoring compares against Production. */
export const CHALLENGER_ALIAS = 'Challenger';

/**
 * What a training run does with its best new version: nothing, set `Challenger`, or set
 * `Production` when it beats the current `Production` on the same holdout (else `Challenger`).
 */
export const PROMOTION_MODES = ['none', 'challenger', 'production-if-better'] as const;
export type PromotionMode = (typeof PROMOTION_MODES)[number];

export function isPromotionMode(value: string): value is PromotionMode {
  return (PROMOTION_MODES as readonly string[]).includes(value);
}

/**
 * The headline drift value above which a monitoring run counts as drifted and alerts: the reference
 * stack's 0.20. Above 0; with the default metric (the share of drifted features) at most 1, while
 * the max_* metrics (PSI, Wasserstein) may exceed 1.
 */
export const DRIFT_THRESHOLD = { default: 0.2, exclusiveMin: 0, shareMax: 1 } as const;

/** Seconds the predict API trusts a resolved alias before it looks it up again. */
export const ALIAS_TTL_SECONDS = { default: 30, min: 1, max: 3600 } as const;

/**
 * The promotion gate's decision, pure: given the mode, the new version's holdout score and what is
 * known about the current Production version, which alias the new version gets and why.
 * (Fetching and scoring Production lives in promote-version.ts.)
 */
import {
  CHALLENGER_ALIAS,
  type PromotionMode as Mode,
  PRODUCTION_ALIAS,
  promotionModeOf,
  type RenamedPromotionMode,
} from '../settings';
import { compareScores, type SelectionMetric } from './selection-metric';

export { CHALLENGER_ALIAS, PRODUCTION_ALIAS, PROMOTION_MODES } from '../settings';

/**
 * A mode as the gate takes it: settings.ts's PROMOTION_MODES, or `production-if-better`, the
 * core's earlier word for `production`, still accepted from callers of the core.
 * Decisions always carry the current word.
 */
export type PromotionMode = Mode | RenamedPromotionMode;

export type PromotionAlias = typeof PRODUCTION_ALIAS | typeof CHALLENGER_ALIAS;

/** What the gate knows about the current Production version. */
export type ProductionStanding =
  | { readonly kind: 'none' }
  | { readonly kind: 'scored'; readonly version: string; readonly score: number }
  /** Production exists but could not be scored on this holdout (other features, other task, corrupt). */
  | { readonly kind: 'unscorable'; readonly version: string; readonly problem: string };

export interface PromotionDecision {
  readonly mode: Mode;
  /** The alias to set on the new version; null for mode `none`. */
  readonly alias: PromotionAlias | null;
  readonly promotedToProduction: boolean;
  readonly metric: string;
  /** The new version's score on the holdout (null for mode `none`: nothing was scored). */
  readonly candidateScore: number | null;
  readonly productionVersion: string | null;
  readonly productionScore: number | null;
  readonly reason: string;
}

export function decidePromotion(input: {
  readonly mode: PromotionMode;
  readonly metric: SelectionMetric;
  readonly candidateScore: number | null;
  readonly production: ProductionStanding;
}): PromotionDecision {
  const { metric, candidateScore, production } = input;
  const mode = promotionModeOf(input.mode);
  if (mode === undefined) throw new RangeError(`unknown promotion mode ${JSON.stringify(input.mode)}`);
  const base = {
    mode,
    metric: metric.name,
    candidateScore,
    productionVersion: production.kind === 'none' ? null : production.version,
    productionScore: production.kind === 'scored' ? production.score : null,
  };
  if (mode === 'none')
    return { ...base, alias: null, promotedToProduction: false, reason: 'promotion disabled' };
  if (mode === 'challenger') {
    return {
      ...base,
      alias: CHALLENGER_ALIAS,
      promotedToProduction: false,
      reason: 'set as Challenger as asked',
    };
  }
  const score = `${metric.name} ${format(candidateScore)}`;
  if (production.kind === 'none') {
    return {
      ...base,
      alias: PRODUCTION_ALIAS,
      promotedToProduction: true,
      reason: `no Production version yet (${score})`,
    };
  }
  if (production.kind === 'unscorable') {
    // Not comparable is not "better": replacing a serving model needs evidence, so it waits as Challenger.
    return {
      ...base,
      alias: CHALLENGER_ALIAS,
      promotedToProduction: false,
      reason: `Production v${production.version} could not be scored on this holdout (${production.problem}); kept it`,
    };
  }
  const versus = `${score} vs ${format(production.score)} for Production v${production.version}`;
  // Strictly better only: on a tie the proven version stays.
  if (candidateScore !== null && compareScores(metric, candidateScore, production.score) < 0) {
    return {
      ...base,
      alias: PRODUCTION_ALIAS,
      promotedToProduction: true,
      reason: `beats Production: ${versus}`,
    };
  }
  return {
    ...base,
    alias: CHALLENGER_ALIAS,
    promotedToProduction: false,
    reason: `does not beat Production: ${versus}`,
  };
}

function format(value: number | null): string {
  return value === null || Number.isNaN(value) ? 'n/a' : String(Number(value.toFixed(6)));
}

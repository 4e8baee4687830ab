/**
 * An alias's history, kept in MLflow itself as a registered-model tag
 * (`mlops.alias_history.<alias>`: a compact JSON list, newest last), so a rollback knows what the
 * alias pointed at before without any store of its own. Pure functions: parse, append with the
 * caps, and pick the rollback target.
 */
import { z } from 'zod';
import { AliasHistoryCorruptError, AliasHistoryMismatchError, NoPreviousVersionError } from './errors';

export const HISTORY_TAG_PREFIX = 'mlops.alias_history.';
export const PROMOTED_TAG_PREFIX = 'mlops.promoted_to.';

export const historyTagKey = (alias: string): string => `${HISTORY_TAG_PREFIX}${alias}`;
/** Set on a model version, the time it last took the alias. */
export const promotedTagKey = (alias: string): string => `${PROMOTED_TAG_PREFIX}${alias}`;

export const HISTORY_LIMITS = {
  /** Entries kept; older ones are dropped (a rollback can undo at most this many moves). */
  maxEntries: 20,
  /**
   * Characters of the tag value. MLflow's validator allows 100,000 for registered-model tags, but
   * its SQL store keeps them in `registered_model_tags.value VARCHAR(5000)` (only model-version
   * tags were widened to TEXT), so Postgres refuses anything longer.
   */
  maxChars: 5000,
  /** Characters of a reason or actor kept per entry, so one long reason cannot crowd out the rest. */
  maxReasonChars: 200,
  maxActorChars: 100,
} as const;

const AliasHistoryEntrySchema = z.object({
  /** `promote`: set by hand, the CLI or the pipeline; `rollback`: moved back by `rollback`. */
  action: z.enum(['promote', 'rollback']),
  /** The version the alias was set to. */
  version: z.string(),
  /** ISO 8601 time of the move. */
  at: z.string(),
  /** The version it pointed at before, or null when it was not set. */
  previous: z.string().nullable(),
  reason: z.string().optional(),
  actor: z.string().optional(),
});
export type AliasHistoryEntry = z.output<typeof AliasHistoryEntrySchema>;

const AliasHistorySchema = z.array(AliasHistoryEntrySchema);

/** The history in a tag value; no tag is an empty history, anything unreadable is an error (never guessed). */
export function parseAliasHistory(
  model: string,
  alias: string,
  value: string | undefined,
): AliasHistoryEntry[] {
  if (value === undefined || value === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new AliasHistoryCorruptError(model, historyTagKey(alias), 'not JSON');
  }
  const parsed = AliasHistorySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AliasHistoryCorruptError(
      model,
      historyTagKey(alias),
      `${issue?.path.join('.') || '(value)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/**
 * The history with `entry` appended, then the oldest entries dropped until it has at most
 * `maxEntries` and its JSON fits in `maxChars`. Long reasons and actors are cut first.
 */
export function appendAliasHistory(
  history: readonly AliasHistoryEntry[],
  entry: AliasHistoryEntry,
  limits: Partial<typeof HISTORY_LIMITS> = {},
): AliasHistoryEntry[] {
  const { maxEntries, maxChars, maxReasonChars, maxActorChars } = { ...HISTORY_LIMITS, ...limits };
  const trimmed: AliasHistoryEntry = {
    ...entry,
    ...(entry.reason !== undefined && { reason: truncate(entry.reason, maxReasonChars) }),
    ...(entry.actor !== undefined && { actor: truncate(entry.actor, maxActorChars) }),
  };
  let next = [...history, trimmed].slice(-maxEntries);
  while (next.length > 1 && serializeAliasHistory(next).length > maxChars) next = next.slice(1);
  return next;
}

/** Compact JSON, keys in a fixed order, absent reason/actor left out. */
export function serializeAliasHistory(history: readonly AliasHistoryEntry[]): string {
  return JSON.stringify(
    history.map(({ action, version, at, previous, reason, actor }) => ({
      action,
      version,
      at,
      previous,
      ...(reason !== undefined && { reason }),
      ...(actor !== undefined && { actor }),
    })),
  );
}

/**
 * The versions the alias went through, as a stack: a promotion pushes, a rollback pops, so
 * rolling back twice undoes two promotions rather than flipping between two versions. A
 * promotion from "not set" starts afresh: there was nothing before it to go back to.
 */
export function aliasVersionStack(history: readonly AliasHistoryEntry[]): string[] {
  let stack: string[] = [];
  for (const entry of history) {
    if (entry.action === 'rollback') {
      if (stack.at(-1) === entry.previous) stack.pop();
      if (stack.at(-1) !== entry.version) stack.push(entry.version);
      continue;
    }
    if (entry.previous === null) stack = [];
    // A history cut by the caps (or an alias moved by hand in between) starts from `previous`.
    else if (stack.at(-1) !== entry.previous) stack.push(entry.previous);
    stack.push(entry.version);
  }
  return stack;
}

/**
 * The version a rollback moves the alias to: the one before `current` on the stack. Refuses when
 * there is none, and when the alias is not where the history left it (someone moved it outside
 * this tool: what came before is then unknown).
 */
export function rollbackTarget(
  model: string,
  alias: string,
  history: readonly AliasHistoryEntry[],
  current: string,
): string {
  const stack = aliasVersionStack(history);
  const recorded = stack.at(-1);
  if (recorded !== undefined && recorded !== current) {
    throw new AliasHistoryMismatchError(model, alias, current, recorded);
  }
  const target = stack.at(-2);
  if (target === undefined) throw new NoPreviousVersionError(model, alias, current);
  return target;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

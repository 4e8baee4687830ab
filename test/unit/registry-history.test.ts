import { describe, expect, it } from 'vitest';
import {
  AliasHistoryCorruptError,
  type AliasHistoryEntry,
  AliasHistoryMismatchError,
  aliasVersionStack,
  appendAliasHistory,
  NoPreviousVersionError,
  parseAliasHistory,
  rollbackTarget,
  serializeAliasHistory,
} from '../../lambdas/core/registry';

const promoted = (
  version: string,
  previous: string | null,
  at = '2025-01-01T00:00:00.000Z',
): AliasHistoryEntry => ({
  action: 'promote',
  version,
  previous,
  at,
});
const rolledBack = (version: string, previous: string): AliasHistoryEntry => ({
  action: 'rollback',
  version,
  previous,
  at: '2025-01-02T00:00:00.000Z',
});

describe('alias history bookkeeping', () => {
  it('appends the newest entry last and round-trips through the tag value', () => {
    // Prepare
    const history = [promoted('1', null)];
    // Act
    const next = appendAliasHistory(history, { ...promoted('2', '1'), reason: 'better f1', actor: 'ana' });
    const value = serializeAliasHistory(next);
    // Assess
    expect(next.map((entry) => entry.version)).toEqual(['1', '2']);
    expect(value).toBe(
      '[{"action":"promote","version":"1","at":"2025-01-01T00:00:00.000Z","previous":null},' +
        '{"action":"promote","version":"2","at":"2025-01-01T00:00:00.000Z","previous":"1","reason":"better f1","actor":"ana"}]',
    );
    expect(parseAliasHistory('iris', 'Production', value)).toEqual(next);
  });

  it('keeps only the newest 20 entries', () => {
    let history: AliasHistoryEntry[] = [];
    for (let v = 1; v <= 25; v++)
      history = appendAliasHistory(history, promoted(String(v), v === 1 ? null : String(v - 1)));
    expect(history).toHaveLength(20);
    expect(history[0]?.version).toBe('6');
    expect(history.at(-1)?.version).toBe('25');
  });

  it('drops the oldest entries until the tag value fits in 5000 characters', () => {
    let history: AliasHistoryEntry[] = [];
    for (let v = 1; v <= 20; v++) {
      history = appendAliasHistory(history, {
        ...promoted(String(v), String(v - 1)),
        reason: 'r'.repeat(500),
        actor: 'a'.repeat(300),
      });
    }
    const value = serializeAliasHistory(history);
    expect(value.length).toBeLessThanOrEqual(5000);
    // Each entry is cut to a 200-character reason and a 100-character actor: ~410 characters, so 12 fit.
    expect(history).toHaveLength(12);
    expect(value.length).toBeGreaterThan(5000 - 420);
    expect(history.at(-1)?.version).toBe('20');
    expect(history.at(-1)?.reason).toHaveLength(200);
    expect(history.at(-1)?.reason?.endsWith('…')).toBe(true);
    expect(history.at(-1)?.actor).toHaveLength(100);
  });

  it('reads a missing tag as an empty history and refuses a tag it did not write', () => {
    expect(parseAliasHistory('iris', 'Production', undefined)).toEqual([]);
    expect(() => parseAliasHistory('iris', 'Production', 'v1,v2')).toThrow(AliasHistoryCorruptError);
    expect(() => parseAliasHistory('iris', 'Production', '[{"version":1}]')).toThrow(
      "model 'iris' tag 'mlops.alias_history.Production' is not a valid alias history (0.action:",
    );
  });
});

describe('rollback target', () => {
  it('goes back to the version before the last promotion', () => {
    const history = [promoted('1', null), promoted('2', '1')];
    expect(rollbackTarget('iris', 'Production', history, '2')).toBe('1');
  });

  it('undoes one promotion per rollback instead of flipping between two versions', () => {
    const history = [promoted('1', null), promoted('2', '1'), promoted('3', '2'), rolledBack('2', '3')];
    expect(aliasVersionStack(history)).toEqual(['1', '2']);
    expect(rollbackTarget('iris', 'Production', history, '2')).toBe('1');
  });

  it('has nothing to go back to after the first promotion, or once every promotion is undone', () => {
    expect(() => rollbackTarget('iris', 'Production', [promoted('1', null)], '1')).toThrow(
      NoPreviousVersionError,
    );
    expect(() =>
      rollbackTarget(
        'iris',
        'Production',
        [promoted('1', null), promoted('2', '1'), rolledBack('1', '2')],
        '1',
      ),
    ).toThrow(
      "model 'iris' alias 'Production' (version 1) has no earlier version in its history; nothing to roll back to",
    );
    expect(() => rollbackTarget('iris', 'Production', [], '4')).toThrow(NoPreviousVersionError);
  });

  it('starts afresh when the alias was set from nothing (it had been removed)', () => {
    const history = [promoted('1', null), promoted('2', '1'), promoted('5', null)];
    expect(aliasVersionStack(history)).toEqual(['5']);
    expect(() => rollbackTarget('iris', 'Production', history, '5')).toThrow(NoPreviousVersionError);
  });

  it('still finds the previous version when the caps cut the start of the history', () => {
    // The first kept entry's `previous` seeds the stack.
    const history = [promoted('7', '6'), promoted('8', '7')];
    expect(aliasVersionStack(history)).toEqual(['6', '7', '8']);
    expect(rollbackTarget('iris', 'Production', history, '8')).toBe('7');
  });

  it('refuses to guess when the alias was moved outside mlops', () => {
    const history = [promoted('1', null), promoted('2', '1')];
    const attempt = () => rollbackTarget('iris', 'Production', history, '4');
    expect(attempt).toThrow(AliasHistoryMismatchError);
    expect(attempt).toThrow("alias 'Production' is on version 4, but its history ends on version 2");
  });
});

import { describe, expect, it } from 'vitest';
import {
  AliasNotSetError,
  HistoryNotRecordedError,
  InvalidRegistryArgumentError,
  ModelNotFoundError,
  PreviousVersionDeletedError,
  parseAliasHistory,
  promote,
  rollback,
  VersionNotFoundError,
  VersionNotReadyError,
} from '../../lambdas/core/registry';
import { FakeRegistry } from '../support/registry-fake-client';

const clock = (iso: string) => ({ now: () => new Date(iso) });
const historyOf = (registry: FakeRegistry, model: string, alias = 'Production') =>
  parseAliasHistory(model, alias, registry.model(model).tags.get(`mlops.alias_history.${alias}`));

describe('promote', () => {
  it('sets the alias, appends to the history tag and stamps the version', async () => {
    // Prepare
    const registry = new FakeRegistry().addModel('iris', 3);
    await promote(registry, { model: 'iris', version: 1 }, clock('2025-03-01T10:00:00.000Z'));
    // Act
    const change = await promote(
      registry,
      { model: 'iris', version: '2', reason: 'f1 0.97 > 0.95', actor: 'ana' },
      clock('2025-03-02T10:00:00.000Z'),
    );
    // Assess
    expect(change).toMatchObject({
      model: 'iris',
      alias: 'Production',
      version: '2',
      previous: '1',
      changed: true,
      runId: 'run2',
    });
    expect(change.message).toBe('iris alias Production: version 1 → version 2');
    expect(registry.model('iris').aliases.get('Production')).toBe('2');
    expect(historyOf(registry, 'iris')).toEqual([
      { action: 'promote', version: '1', previous: null, at: '2025-03-01T10:00:00.000Z' },
      {
        action: 'promote',
        version: '2',
        previous: '1',
        at: '2025-03-02T10:00:00.000Z',
        reason: 'f1 0.97 > 0.95',
        actor: 'ana',
      },
    ]);
    expect(registry.model('iris').versions.get('2')?.tags.get('mlops.promoted_to.Production')).toBe(
      '2025-03-02T10:00:00.000Z',
    );
  });

  it('keeps a separate history per alias', async () => {
    const registry = new FakeRegistry().addModel('iris', 3);
    await promote(registry, { model: 'iris', version: 3, alias: 'Challenger' });
    await promote(registry, { model: 'iris', version: 1 });
    expect(historyOf(registry, 'iris', 'Challenger').map((e) => e.version)).toEqual(['3']);
    expect(historyOf(registry, 'iris').map((e) => e.version)).toEqual(['1']);
  });

  it('writes nothing when the alias already points at the version', async () => {
    const registry = new FakeRegistry().addModel('iris', 2);
    await promote(registry, { model: 'iris', version: 2 });
    const writesBefore = registry.writes.length;
    const change = await promote(registry, { model: 'iris', version: 2, reason: 'again' });
    expect(change.changed).toBe(false);
    expect(change.message).toBe('iris alias Production already points at version 2; nothing changed');
    expect(registry.writes).toHaveLength(writesBefore);
    expect(historyOf(registry, 'iris')).toHaveLength(1);
  });

  it('names the model and version and lists the newest versions when the version does not exist', async () => {
    const registry = new FakeRegistry().addModel('iris', 7);
    const attempt = promote(registry, { model: 'iris', version: 9 });
    await expect(attempt).rejects.toThrow(VersionNotFoundError);
    await expect(attempt).rejects.toThrow("model 'iris' has no version 9; latest versions: 7, 6, 5, 4, 3");
    expect(registry.writes).toEqual([]);
  });

  it('says so when the model does not exist', async () => {
    await expect(promote(new FakeRegistry(), { model: 'nope', version: 1 })).rejects.toThrow(
      new ModelNotFoundError('nope'),
    );
  });

  it('refuses a version whose registration failed', async () => {
    const registry = new FakeRegistry().addModel('iris', 2);
    const version = registry.model('iris').versions.get('2');
    if (version) version.status = 'FAILED_REGISTRATION';
    await expect(promote(registry, { model: 'iris', version: 2 })).rejects.toThrow(VersionNotReadyError);
  });

  it('refuses bad arguments before asking MLflow', async () => {
    const registry = new FakeRegistry().addModel('iris', 2);
    await expect(promote(registry, { model: 'iris', version: '0' })).rejects.toThrow(
      "version must be a positive integer, got '0'",
    );
    await expect(promote(registry, { model: 'iris', version: '1.5' })).rejects.toThrow(
      InvalidRegistryArgumentError,
    );
    await expect(promote(registry, { model: 'iris', version: 1, alias: 'prod alias' })).rejects.toThrow(
      "alias must be 1 to 255 letters, digits, '_' or '-', got 'prod alias'",
    );
    await expect(promote(registry, { model: 'iris', version: 1, alias: 'v2' })).rejects.toThrow(
      "alias 'v2' is reserved by MLflow",
    );
    await expect(promote(registry, { model: 'a/b', version: 1 })).rejects.toThrow(
      "must not contain '/' or ':'",
    );
    expect(registry.writes).toEqual([]);
  });

  it('reports an alias that moved but whose history could not be written', async () => {
    const registry = new FakeRegistry().addModel('iris', 2);
    registry.failNextModelTag = true;
    const attempt = promote(registry, { model: 'iris', version: 2 });
    await expect(attempt).rejects.toThrow(HistoryNotRecordedError);
    await expect(attempt).rejects.toThrow(
      "model 'iris' alias 'Production' now points at version 2, but recording it in the alias history failed",
    );
    expect(registry.model('iris').aliases.get('Production')).toBe('2');
  });
});

describe('rollback', () => {
  it('moves the alias back to the previous version and records the rollback', async () => {
    // Prepare
    const registry = new FakeRegistry().addModel('iris', 3);
    await promote(registry, { model: 'iris', version: 1 }, clock('2025-03-01T10:00:00.000Z'));
    await promote(registry, { model: 'iris', version: 2 }, clock('2025-03-02T10:00:00.000Z'));
    // Act
    const change = await rollback(
      registry,
      { model: 'iris', actor: 'ana' },
      clock('2025-03-03T10:00:00.000Z'),
    );
    // Assess
    expect(change).toMatchObject({ version: '1', previous: '2', changed: true, runId: 'run1' });
    expect(change.message).toBe('iris alias Production rolled back: version 2 → version 1');
    expect(registry.model('iris').aliases.get('Production')).toBe('1');
    expect(historyOf(registry, 'iris').at(-1)).toEqual({
      action: 'rollback',
      version: '1',
      previous: '2',
      at: '2025-03-03T10:00:00.000Z',
      reason: 'rollback from version 2',
      actor: 'ana',
    });
    expect(registry.model('iris').versions.get('1')?.tags.get('mlops.promoted_to.Production')).toBe(
      '2025-03-03T10:00:00.000Z',
    );
  });

  it('undoes promotions one at a time', async () => {
    const registry = new FakeRegistry().addModel('iris', 3);
    for (const version of [1, 2, 3]) await promote(registry, { model: 'iris', version });
    expect((await rollback(registry, { model: 'iris' })).version).toBe('2');
    expect((await rollback(registry, { model: 'iris' })).version).toBe('1');
    await expect(rollback(registry, { model: 'iris' })).rejects.toThrow(
      'has no earlier version in its history',
    );
  });

  it('refuses when the alias is not set', async () => {
    const registry = new FakeRegistry().addModel('iris', 1);
    await expect(rollback(registry, { model: 'iris' })).rejects.toThrow(
      new AliasNotSetError('iris', 'Production'),
    );
  });

  it('stops, leaving the alias where it is, when the previous version was deleted', async () => {
    const registry = new FakeRegistry().addModel('iris', 3);
    for (const version of [1, 2, 3]) await promote(registry, { model: 'iris', version });
    registry.model('iris').versions.delete('2');
    const attempt = rollback(registry, { model: 'iris' });
    await expect(attempt).rejects.toThrow(PreviousVersionDeletedError);
    await expect(attempt).rejects.toThrow(
      "model 'iris' alias 'Production' was on version 2 before 3, but version 2 was deleted; alias left on 3",
    );
    expect(registry.model('iris').aliases.get('Production')).toBe('3');
    expect(historyOf(registry, 'iris')).toHaveLength(3);
  });
});

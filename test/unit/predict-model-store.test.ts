import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelUnavailableError } from '../../lambdas/core/serving/errors';
import { ModelStore, type ModelStoreEvents } from '../../lambdas/core/serving/model-store';
import { predict } from '../../lambdas/core/serving/predict';
import type { ModelVersionRef } from '../../lambdas/core/serving/registry';
import { InMemoryRegistry } from '../support/in-memory-registry';
import { irisClassifier, modelFiles, SETOSA } from '../support/predict-model-fixture';

const TTL_MS = 30_000;

/** A registry whose alias lookups can be held, to show that requests do not wait on them. */
class GatedRegistry extends InMemoryRegistry {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  override async resolveAlias(name: string, alias: string): Promise<ModelVersionRef> {
    if (this.gate) await this.gate;
    return super.resolveAlias(name, alias);
  }
}

function setUp(options: { events?: ModelStoreEvents } = {}) {
  let clock = 1_000_000;
  const registry = new GatedRegistry('iris');
  const v1 = registry.addVersion(modelFiles(irisClassifier()), 'run-1');
  const v2 = registry.addVersion(modelFiles({ ...irisClassifier(), intercepts: [0.2, 1.1, -1.2] }), 'run-2');
  const corrupt = registry.addVersion(
    modelFiles(irisClassifier(), { onnx: new TextEncoder().encode('not onnx') }),
    'run-3',
  );
  registry.setAlias('Production', v1.version);
  const store = new ModelStore({
    registry,
    modelName: 'iris',
    defaultAlias: 'Production',
    aliasTtlMs: TTL_MS,
    maxRows: 100,
    now: () => clock,
    ...(options.events ? { events: options.events } : {}),
  });
  stores.push(store);
  return {
    registry,
    store,
    v1,
    v2,
    corrupt,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const stores: ModelStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

/** Waits for the background check to swap in `version`. */
async function swappedTo(store: ModelStore, version: string): Promise<void> {
  await vi.waitFor(() => expect(store.peek()?.version).toBe(version));
}

describe('ModelStore', () => {
  it('loads the version the alias points at and answers with it', async () => {
    const { store } = setUp();

    const answer = await predict(store, { instances: [SETOSA] });

    expect(answer.model).toEqual({ name: 'iris', version: '1', alias: 'Production', run_id: 'run-1' });
    expect(answer.predictions[0]).toMatchObject({ label: 'setosa' });
  });

  it('swaps to the new version in the background once the TTL has passed', async () => {
    const { store, registry, advance } = setUp();
    await store.model();
    registry.setAlias('Production', '2');

    advance(TTL_MS - 1);
    expect((await store.model()).version).toBe('1');
    expect(registry.calls.resolveAlias).toBe(1);

    advance(1);
    const duringCheck = await store.model();
    expect(duringCheck.version).toBe('1');
    await swappedTo(store, '2');
    expect((await predict(store, { instances: [SETOSA] })).model).toMatchObject({
      version: '2',
      run_id: 'run-2',
    });
  });

  it('never makes a request wait on the registry once a model is loaded', async () => {
    const { store, registry, advance } = setUp();
    await store.model();
    registry.hold();
    advance(TTL_MS);

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => predict(store, { instances: [SETOSA] })),
    );

    expect(answers.map((answer) => answer.model.version)).toEqual(Array(20).fill('1'));
    expect(store.status().aliases[0]?.state).toBe('ok');
    registry.release();
  });

  it('keeps serving the loaded version while the registry is unreachable, and says so', async () => {
    const events = { aliasResolutionFailed: vi.fn() };
    const { store, registry, advance } = setUp({ events });
    await store.model();
    registry.goOffline('connect ECONNREFUSED 127.0.0.1:5000');
    advance(TTL_MS);

    expect((await store.model()).version).toBe('1');
    await vi.waitFor(() => expect(store.status().aliases[0]?.last_error).not.toBeNull());
    const status = store.status();
    expect(status.status).toBe('degraded');
    expect(status.aliases[0]).toMatchObject({
      state: 'degraded',
      loaded_version: '1',
      resolved_version: '1',
      last_error: { code: 'REGISTRY_UNREACHABLE', message: 'connect ECONNREFUSED 127.0.0.1:5000' },
    });
    expect(events.aliasResolutionFailed).toHaveBeenCalledWith({
      alias: 'Production',
      code: 'REGISTRY_UNREACHABLE',
      message: 'connect ECONNREFUSED 127.0.0.1:5000',
    });

    registry.restore();
    advance(TTL_MS);
    store.status();
    await vi.waitFor(() => expect(store.status().aliases[0]?.state).toBe('ok'));
  });

  it('keeps the old version when the new one is corrupt, and does not download it again', async () => {
    const { store, registry, advance, corrupt } = setUp();
    await store.model();
    registry.setAlias('Production', corrupt.version);
    advance(TTL_MS);
    await store.refresh();

    expect(store.peek()?.version).toBe('1');
    expect(store.status().aliases[0]).toMatchObject({
      state: 'degraded',
      resolved_version: '3',
      loaded_version: '1',
      last_error: { code: 'MODEL_CORRUPT', version: '3' },
    });
    const downloads = registry.calls.downloadModel;

    advance(TTL_MS);
    await store.refresh();
    expect(registry.calls.downloadModel).toBe(downloads);
    expect((await predict(store, { instances: [SETOSA] })).model.version).toBe('1');
  });

  it('keeps serving when the alias is deleted', async () => {
    const { store, registry, advance } = setUp();
    await store.model();
    registry.deleteAlias('Production');
    advance(TTL_MS);
    await store.refresh();

    expect((await predict(store, { instances: [SETOSA] })).model.version).toBe('1');
    expect(store.status().aliases[0]).toMatchObject({
      state: 'degraded',
      last_error: { code: 'ALIAS_NOT_FOUND' },
    });
  });

  it('answers ModelUnavailableError when no version is loadable, without asking again before the TTL', async () => {
    const { store, registry } = setUp();
    registry.goOffline('connect ECONNREFUSED');

    await expect(store.model()).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(store.model()).rejects.toThrow(
      "no version of model 'iris' is loadable for alias 'Production': connect ECONNREFUSED",
    );
    expect(registry.calls.resolveAlias).toBe(1);
    expect(store.status()).toMatchObject({ status: 'unavailable', aliases: [{ state: 'unavailable' }] });
  });

  it('loads a version once for concurrent first requests and for two aliases on it', async () => {
    const { store, registry } = setUp();
    registry.setAlias('Challenger', '1');

    const models = await Promise.all([store.model(), store.model(), store.model('Challenger')]);

    expect(new Set(models).size).toBe(1);
    expect(registry.calls.downloadModel).toBe(1);
  });

  it('follows a shadow alias with its own watcher', async () => {
    const { store, registry } = setUp();
    registry.setAlias('Challenger', '2');

    const shadow = await predict(store, { instances: [SETOSA] }, 'Challenger');
    const main = await predict(store, { instances: [SETOSA] });

    expect(shadow.model).toMatchObject({ alias: 'Challenger', version: '2' });
    expect(main.model).toMatchObject({ alias: 'Production', version: '1' });
    expect(store.status().aliases.map((alias) => [alias.alias, alias.loaded_version])).toEqual([
      ['Production', '1'],
      ['Challenger', '2'],
    ]);
  });

  it('serves the model even when a telemetry listener throws', async () => {
    const boom = () => {
      throw new Error('InvokeStore is not available');
    };
    const { store } = setUp({ events: { modelLoaded: boom, modelSwapped: boom } });

    expect((await predict(store, { instances: [SETOSA] })).model.version).toBe('1');
    expect(store.status().aliases[0]).toMatchObject({ state: 'ok', last_error: null });
  });

  it('rejects alias names MLflow would not accept', () => {
    const { store } = setUp();

    expect(() => store.model('Pro duction')).toThrow(
      'alias must be 1 to 255 letters, digits, underscores or hyphens',
    );
  });
});

/**
 * The models a serving process holds: one `AliasWatcher` per alias in use (the default one plus
 * shadow or canary aliases asked for by requests), and a cache of loaded versions shared by
 * them, so two aliases on one version share a session and flipping an alias back is instant.
 */

import { isAliasName } from '../settings';
import { type AliasStatus, AliasWatcher, type AliasWatcherEvents } from './alias-watcher';
import { ModelProblem, ValidationError } from './errors';
import type { ModelRegistry, ModelVersionRef } from './registry';
import { loadServableModel, type ServableModel } from './servable-model';

export interface ModelStoreEvents extends AliasWatcherEvents {
  modelLoaded?(event: { version: string; loadMs: number; downloadMs: number }): void;
}

export interface ModelStoreOptions {
  readonly registry: ModelRegistry;
  readonly modelName: string;
  readonly defaultAlias: string;
  readonly aliasTtlMs: number;
  /** Used to size the warm-up input. */
  readonly maxRows: number;
  /** Aliases followed at once; beyond it, aliases with no loaded model are dropped first. @default 8 */
  readonly maxAliases?: number;
  /** Loaded versions kept beyond those an alias serves, for quick flips back. @default 2 */
  readonly spareVersions?: number;
  readonly events?: ModelStoreEvents;
  readonly now?: () => number;
}

export interface StoreStatus {
  readonly status: 'ok' | 'degraded' | 'unavailable';
  readonly model: string;
  readonly default_alias: string;
  readonly alias_ttl_seconds: number;
  readonly aliases: AliasStatus[];
}

interface CachedVersion {
  loading?: Promise<ServableModel>;
  model?: ServableModel;
  /** A permanent problem (corrupt or unsupported artifact): registered versions do not change. */
  failure?: ModelProblem;
  /** The registry revision the failure was seen under: a new revision (a rewritten manifest) retries. */
  failedRevision?: string;
  lastUsed: number;
}

export class ModelStore {
  private readonly watchers = new Map<string, AliasWatcher>();
  private readonly versions = new Map<string, CachedVersion>();
  private readonly maxAliases: number;
  private readonly spareVersions: number;
  private readonly now: () => number;
  private readonly events: ModelStoreEvents;

  constructor(private readonly options: ModelStoreOptions) {
    this.events = guarded(options.events ?? {});
    this.maxAliases = options.maxAliases ?? 8;
    this.spareVersions = options.spareVersions ?? 2;
    this.now = options.now ?? Date.now;
    this.watcher(options.defaultAlias);
  }

  get modelName(): string {
    return this.options.modelName;
  }

  get defaultAlias(): string {
    return this.options.defaultAlias;
  }

  get maxRows(): number {
    return this.options.maxRows;
  }

  /** The model an alias serves; waits on the registry only until the alias's first version is loaded. */
  model(alias: string = this.options.defaultAlias): Promise<ServableModel> {
    const watcher = this.watcher(alias);
    const loaded = watcher.peek();
    return loaded ? Promise.resolve(loaded) : watcher.model();
  }

  /** The loaded model of an alias without waiting or creating a watcher. */
  peek(alias: string = this.options.defaultAlias): ServableModel | undefined {
    return this.watchers.get(alias)?.peek();
  }

  /** Starts loading the default alias (at cold start) and waits for the outcome; never rejects. */
  async warm(): Promise<void> {
    await this.watcher(this.options.defaultAlias).refreshNow();
  }

  /** Re-resolves an alias now and waits for the outcome; for tests and tools that cannot wait a TTL. */
  async refresh(alias: string = this.options.defaultAlias): Promise<void> {
    await this.watcher(alias).refreshNow();
  }

  status(): StoreStatus {
    const aliases = [...this.watchers.values()].map((watcher) => watcher.status());
    const main = aliases.find((alias) => alias.alias === this.options.defaultAlias);
    const allOk = aliases.every((alias) => alias.state === 'ok');
    return {
      status: !main?.loaded_version ? 'unavailable' : allOk ? 'ok' : 'degraded',
      model: this.options.modelName,
      default_alias: this.options.defaultAlias,
      alias_ttl_seconds: this.options.aliasTtlMs / 1000,
      aliases,
    };
  }

  /** Frees every session; the store must not be used afterwards. */
  close(): void {
    for (const cached of this.versions.values()) cached.model?.retire();
    this.versions.clear();
    this.watchers.clear();
  }

  private watcher(alias: string): AliasWatcher {
    const existing = this.watchers.get(alias);
    if (existing) return existing;
    if (!isAliasName(alias)) {
      throw new ValidationError(
        'INVALID_ALIAS',
        'alias must be 1 to 255 letters, digits, underscores or hyphens',
        'alias',
      );
    }
    if (this.watchers.size >= this.maxAliases) this.dropIdleWatcher();
    const watcher = new AliasWatcher({
      registry: this.options.registry,
      modelName: this.options.modelName,
      alias,
      ttlMs: this.options.aliasTtlMs,
      loadVersion: (ref) => this.loadVersion(ref),
      onSwap: () => this.evictUnusedVersions(),
      events: this.events,
      now: this.now,
    });
    this.watchers.set(alias, watcher);
    return watcher;
  }

  /** Makes room for a new alias by dropping one that never loaded a model (typically a mistyped alias). */
  private dropIdleWatcher(): void {
    for (const [alias, watcher] of this.watchers) {
      if (alias !== this.options.defaultAlias && !watcher.hasModel()) {
        this.watchers.delete(alias);
        return;
      }
    }
    throw new ValidationError(
      'INVALID_ALIAS',
      `at most ${this.maxAliases} aliases can be served at once`,
      'alias',
    );
  }

  /** One load per version however many aliases or requests ask for it at once. */
  private loadVersion(ref: ModelVersionRef): Promise<ServableModel> {
    const cached = this.versions.get(ref.version);
    if (cached) {
      cached.lastUsed = this.now();
      if (cached.model) return Promise.resolve(cached.model);
      if (cached.loading) return cached.loading;
      if (cached.failure && cached.failedRevision === ref.revision) return Promise.reject(cached.failure);
    }
    const entry: CachedVersion = { lastUsed: this.now() };
    const started = this.now();
    entry.loading = (async () => {
      const files = await this.options.registry.downloadModel(ref);
      const downloaded = this.now();
      const model = await loadServableModel(ref, files, this.options.maxRows);
      this.events.modelLoaded?.({
        version: ref.version,
        loadMs: this.now() - started,
        downloadMs: downloaded - started,
      });
      return model;
    })();
    this.versions.set(ref.version, entry);
    entry.loading.then(
      (model) => {
        entry.model = model;
        delete entry.loading;
      },
      (error: unknown) => {
        delete entry.loading;
        if (error instanceof ModelProblem && error.permanent) {
          entry.failure = error;
          if (ref.revision !== undefined) entry.failedRevision = ref.revision;
        } else this.versions.delete(ref.version);
      },
    );
    return entry.loading;
  }

  /** Keeps the versions aliases serve plus a few recent spares; retires the rest. */
  private evictUnusedVersions(): void {
    const served = new Set<string>();
    for (const watcher of this.watchers.values()) {
      const version = watcher.servedVersion();
      if (version) served.add(version);
    }
    const spares = [...this.versions.entries()]
      .filter(([version, cached]) => cached.model && !served.has(version))
      .sort(([, a], [, b]) => b.lastUsed - a.lastUsed);
    for (const [version, cached] of spares.slice(this.spareVersions)) {
      this.versions.delete(version);
      cached.model?.retire();
    }
  }
}

/** Telemetry never decides whether a model is served: a listener that throws is ignored. */
function guarded(events: ModelStoreEvents): ModelStoreEvents {
  const guard =
    <E>(listener: ((event: E) => void) | undefined) =>
    (event: E) => {
      try {
        listener?.(event);
      } catch {
        // a broken metrics or log sink must not fail a model load
      }
    };
  return {
    modelLoaded: guard(events.modelLoaded?.bind(events)),
    modelSwapped: guard(events.modelSwapped?.bind(events)),
    aliasResolutionFailed: guard(events.aliasResolutionFailed?.bind(events)),
    modelLoadFailed: guard(events.modelLoadFailed?.bind(events)),
  };
}

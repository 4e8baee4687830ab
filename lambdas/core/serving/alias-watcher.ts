/**
 * Follows one registry alias ("the tag watcher"): resolves it, loads the version it points at,
 * and from then on re-resolves it in the background once its TTL has passed. Requests never
 * wait on the registry once a model is loaded; a new version replaces the old one with a single
 * reference assignment, after it has been loaded and warmed. Any failure keeps the loaded
 * version serving and is reported in `status()`.
 */
import { describeError, ModelProblem, type ModelProblemCode, ModelUnavailableError } from './errors';
import type { ModelRegistry, ModelVersionRef, ServedManifest } from './registry';
import type { ServableModel } from './servable-model';

export interface AliasProblem {
  readonly code: ModelProblemCode;
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
  /** The version that failed to load, for load problems. */
  readonly version?: string;
}

export type AliasState = 'ok' | 'loading' | 'updating' | 'degraded' | 'unavailable';

export interface AliasStatus {
  readonly alias: string;
  readonly state: AliasState;
  readonly resolved_version: string | null;
  readonly loaded_version: string | null;
  readonly run_id: string | null;
  readonly last_resolved_at: string | null;
  readonly last_checked_at: string | null;
  readonly last_load_ms: number | null;
  /** The serving manifest of the loaded version (who moved the alias, when, how), when one named it. */
  readonly manifest: ServedManifest | null;
  readonly last_error: { code: ModelProblemCode; message: string; at: string; version?: string } | null;
}

export interface AliasWatcherEvents {
  aliasResolutionFailed?(event: { alias: string; code: ModelProblemCode; message: string }): void;
  modelLoadFailed?(event: { alias: string; version: string; code: ModelProblemCode; message: string }): void;
  modelSwapped?(event: { alias: string; from: string | null; to: string; swapMs: number }): void;
}

export interface AliasWatcherOptions {
  readonly registry: ModelRegistry;
  readonly modelName: string;
  readonly alias: string;
  readonly ttlMs: number;
  /** Loads (or takes from the version cache) a servable model for a version. */
  readonly loadVersion: (ref: ModelVersionRef) => Promise<ServableModel>;
  /** Called after a swap, so the store can free versions no alias serves any more. */
  readonly onSwap?: () => void;
  readonly events?: AliasWatcherEvents;
  readonly now?: () => number;
}

export class AliasWatcher {
  readonly alias: string;
  /** The served model: replaced only by one assignment in `refresh`, never mutated. */
  private current: ServableModel | undefined;
  private resolved: ModelVersionRef | undefined;
  private lastResolvedAt: number | undefined;
  private lastCheckedAt: number | undefined;
  private lastLoadMs: number | undefined;
  private lastError: AliasProblem | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AliasWatcherOptions) {
    this.alias = options.alias;
    this.now = options.now ?? Date.now;
  }

  /** The loaded model, or undefined while none is; starts a background check when the TTL has passed. */
  peek(): ServableModel | undefined {
    const current = this.current;
    if (current && this.isDue()) this.refreshInBackground();
    return current;
  }

  /**
   * The model to serve. Waits only while no version has been loaded yet; with none loadable it
   * throws `ModelUnavailableError` (a failed first load is retried once the TTL has passed).
   */
  async model(): Promise<ServableModel> {
    const current = this.peek();
    if (current) return current;
    if (!this.refreshing && this.isDue()) this.refreshInBackground();
    if (this.refreshing) await this.refreshing;
    if (this.current) return this.current;
    const reason = this.lastError?.message ?? 'the model has not been loaded';
    throw new ModelUnavailableError(
      `no version of model '${this.options.modelName}' is loadable for alias '${this.alias}': ${reason}`,
      this.alias,
      this.lastError?.code,
    );
  }

  /** The version this watcher serves (for the store's cache eviction). */
  servedVersion(): string | undefined {
    return this.current?.version;
  }

  hasModel(): boolean {
    return this.current !== undefined;
  }

  /** Resolves the alias now and waits for the outcome (start-up warming, tests). */
  async refreshNow(): Promise<void> {
    if (!this.refreshing) this.refreshInBackground();
    await this.refreshing;
  }

  status(): AliasStatus {
    if (this.isDue()) this.refreshInBackground();
    const current = this.current;
    const error = this.lastError;
    return {
      alias: this.alias,
      state: this.state(),
      resolved_version: this.resolved?.version ?? null,
      loaded_version: current?.version ?? null,
      run_id: current?.ref.runId || null,
      last_resolved_at: iso(this.lastResolvedAt),
      last_checked_at: iso(this.lastCheckedAt),
      last_load_ms: this.lastLoadMs ?? null,
      manifest: current?.ref.manifest ?? null,
      last_error: error
        ? {
            code: error.code,
            message: error.message,
            at: new Date(error.at).toISOString(),
            ...(error.version ? { version: error.version } : {}),
          }
        : null,
    };
  }

  private state(): AliasState {
    if (!this.current) return this.refreshing ? 'loading' : 'unavailable';
    if (this.lastError) return 'degraded';
    if (this.resolved && this.resolved.version !== this.current.version)
      return this.refreshing ? 'updating' : 'degraded';
    return 'ok';
  }

  private isDue(): boolean {
    return this.lastCheckedAt === undefined || this.now() - this.lastCheckedAt >= this.options.ttlMs;
  }

  private refreshInBackground(): void {
    if (this.refreshing) return;
    this.refreshing = this.refresh().finally(() => {
      this.refreshing = undefined;
    });
  }

  /** Never rejects: every failure is recorded for `status()` and the served model stays. */
  private async refresh(): Promise<void> {
    const started = this.now();
    this.lastCheckedAt = started;
    const { registry, modelName, events } = this.options;
    let ref: ModelVersionRef;
    try {
      ref = await registry.resolveAlias(modelName, this.alias);
    } catch (error) {
      const problem = asProblem(error, 'REGISTRY_ERROR');
      this.lastError = { code: problem.code, message: problem.message, at: this.now() };
      events?.aliasResolutionFailed?.({ alias: this.alias, code: problem.code, message: problem.message });
      return;
    }
    this.resolved = ref;
    this.lastResolvedAt = this.now();
    const previous = this.current;
    if (previous?.version === ref.version) {
      this.lastError = undefined;
      return;
    }
    try {
      const model = await this.options.loadVersion(ref);
      this.current = model; // the swap: requests from here on get the new version
      this.lastLoadMs = this.now() - started;
      this.lastError = undefined;
      events?.modelSwapped?.({
        alias: this.alias,
        from: previous?.version ?? null,
        to: model.version,
        swapMs: this.lastLoadMs,
      });
      this.options.onSwap?.();
    } catch (error) {
      const problem = asProblem(error, 'MODEL_CORRUPT');
      this.lastError = { code: problem.code, message: problem.message, at: this.now(), version: ref.version };
      events?.modelLoadFailed?.({
        alias: this.alias,
        version: ref.version,
        code: problem.code,
        message: problem.message,
      });
    }
  }
}

function asProblem(error: unknown, fallback: ModelProblemCode): ModelProblem {
  return error instanceof ModelProblem ? error : new ModelProblem(fallback, describeError(error));
}

function iso(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : new Date(epochMs).toISOString();
}

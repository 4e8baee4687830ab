/**
 * A test double for `ModelRegistry`, held in memory: versions are model directories (read from
 * disk or built in code), aliases are set by hand. It serves a model without MLflow (the predict
 * unit and fuzz suites) and lets tests script outages.
 */
import { ModelProblem } from '../../lambdas/core/serving/errors';
import type { ModelFiles, ModelRegistry, ModelVersionRef } from '../../lambdas/core/serving/registry';

export class InMemoryRegistry implements ModelRegistry {
  private readonly versions = new Map<string, { ref: ModelVersionRef; files: ModelFiles }>();
  private readonly aliases = new Map<string, string>();
  private outage: ModelProblem | undefined;
  /** Calls made, for tests that check nothing waits on the registry. */
  calls = { resolveAlias: 0, downloadModel: 0 };

  constructor(readonly modelName: string) {}

  /** Registers the next version number with these files; returns its reference. */
  addVersion(files: ModelFiles, runId = ''): ModelVersionRef {
    const version = String(this.versions.size + 1);
    const ref = { name: this.modelName, version, runId, source: `memory:/${this.modelName}/${version}` };
    this.versions.set(version, { ref, files });
    return ref;
  }

  setAlias(alias: string, version: string): void {
    if (!this.versions.has(version)) throw new Error(`no version ${version} of ${this.modelName}`);
    this.aliases.set(alias, version);
  }

  deleteAlias(alias: string): void {
    this.aliases.delete(alias);
  }

  /** From now on every call fails as an unreachable registry would, until `restore()`. */
  goOffline(message = 'the registry is offline'): void {
    this.outage = new ModelProblem('REGISTRY_UNREACHABLE', message);
  }

  restore(): void {
    this.outage = undefined;
  }

  async resolveAlias(name: string, alias: string): Promise<ModelVersionRef> {
    this.calls.resolveAlias++;
    if (this.outage) throw this.outage;
    const version = name === this.modelName ? this.aliases.get(alias) : undefined;
    const entry = version === undefined ? undefined : this.versions.get(version);
    if (!entry)
      throw new ModelProblem('ALIAS_NOT_FOUND', `alias '${alias}' of model '${name}' is not in the registry`);
    return entry.ref;
  }

  async downloadModel(version: ModelVersionRef): Promise<ModelFiles> {
    this.calls.downloadModel++;
    if (this.outage) throw this.outage;
    const entry = this.versions.get(version.version);
    if (!entry) throw new ModelProblem('ARTIFACT_DOWNLOAD_FAILED', `no files for version ${version.version}`);
    return entry.files;
  }
}

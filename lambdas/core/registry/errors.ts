/**
 * The errors alias management throws on purpose. Each names the model, alias and version involved,
 * so the CLI can print the message as is; callers branch on the class, never on the text.
 */

/** Base class: `instanceof RegistryError` catches every refusal of promote, rollback and status. */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** A model name, version or alias that cannot be valid, caught before MLflow is asked. */
export class InvalidRegistryArgumentError extends RegistryError {
  override name = 'InvalidRegistryArgumentError';

  constructor(
    readonly argument: 'model' | 'version' | 'alias' | 'api',
    message: string,
  ) {
    super(message);
  }
}

export class ModelNotFoundError extends RegistryError {
  override name = 'ModelNotFoundError';

  constructor(readonly model: string) {
    super(`registered model '${model}' does not exist`);
  }
}

export class VersionNotFoundError extends RegistryError {
  override name = 'VersionNotFoundError';

  constructor(
    readonly model: string,
    readonly version: string,
    /** The model's newest versions, newest first, to point at what does exist. */
    readonly latestVersions: readonly string[],
  ) {
    super(
      `model '${model}' has no version ${version}; ${
        latestVersions.length === 0
          ? 'it has no versions at all'
          : `latest versions: ${latestVersions.join(', ')}`
      }`,
    );
  }
}

/** The version exists but MLflow has not finished registering it (or failed to): nothing to serve. */
export class VersionNotReadyError extends RegistryError {
  override name = 'VersionNotReadyError';

  constructor(
    readonly model: string,
    readonly version: string,
    readonly status: string,
  ) {
    super(`model '${model}' version ${version} is ${status}, not READY; it cannot take an alias`);
  }
}

export class AliasNotSetError extends RegistryError {
  override name = 'AliasNotSetError';

  constructor(
    readonly model: string,
    readonly alias: string,
  ) {
    super(`model '${model}' has no alias '${alias}'; nothing to roll back`);
  }
}

export class NoPreviousVersionError extends RegistryError {
  override name = 'NoPreviousVersionError';

  constructor(
    readonly model: string,
    readonly alias: string,
    readonly current: string,
  ) {
    super(
      `model '${model}' alias '${alias}' (version ${current}) has no earlier version in its history; nothing to roll back to`,
    );
  }
}

/** The version to roll back to is gone: rolling back further or elsewhere would be a guess. */
export class PreviousVersionDeletedError extends RegistryError {
  override name = 'PreviousVersionDeletedError';

  constructor(
    readonly model: string,
    readonly alias: string,
    readonly current: string,
    readonly previous: string,
  ) {
    super(
      `model '${model}' alias '${alias}' was on version ${previous} before ${current}, but version ${previous} was deleted; ` +
        `alias left on ${current} (pick a version with \`mlops promote ${model} <version> --alias ${alias}\`)`,
    );
  }
}

/** The alias was moved outside this tool since its history was last written: the history no longer says what came before. */
export class AliasHistoryMismatchError extends RegistryError {
  override name = 'AliasHistoryMismatchError';

  constructor(
    readonly model: string,
    readonly alias: string,
    readonly current: string,
    readonly recorded: string,
  ) {
    super(
      `model '${model}' alias '${alias}' is on version ${current}, but its history ends on version ${recorded} ` +
        `(moved outside mlops?); not guessing — pick a version with \`mlops promote ${model} <version> --alias ${alias}\``,
    );
  }
}

/** The history tag holds something this code did not write. */
export class AliasHistoryCorruptError extends RegistryError {
  override name = 'AliasHistoryCorruptError';

  constructor(
    readonly model: string,
    readonly tag: string,
    problem: string,
  ) {
    super(`model '${model}' tag '${tag}' is not a valid alias history (${problem}); fix or delete the tag`);
  }
}

/**
 * The alias moved, but writing its history or the version tag failed afterwards. The alias change
 * stands (it is what serving follows); only rollback's memory of it is missing.
 */
export class HistoryNotRecordedError extends RegistryError {
  override name = 'HistoryNotRecordedError';

  constructor(
    readonly model: string,
    readonly alias: string,
    readonly version: string,
    options: ErrorOptions,
  ) {
    const cause = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `model '${model}' alias '${alias}' now points at version ${version}, but recording it in the alias history failed: ${cause}`,
      options,
    );
  }
}

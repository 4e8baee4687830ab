/**
 * The errors of the training lifecycle. Each names what is wrong (the request field, the data
 * column and row, the candidate) so the CLI and the pipeline report it in one line.
 */
import { CoreError } from '../core-error';

export class LifecycleError extends CoreError {
  override name = 'LifecycleError';
}

/** A request field is missing, malformed or does not fit the dataset (e.g. `metric` for the wrong task). */
export class TrainingRequestError extends LifecycleError {
  override name = 'TrainingRequestError';
  declare readonly field: string;
  constructor(field: string, message: string) {
    super(message, { field });
  }
}

export type DatasetRejectionCode =
  /** Every row broke the contract: nothing left to train on. */
  | 'NO_VALID_ROWS'
  /** More rows broke the contract than `maxQuarantinedShare` allows: likely an upstream change, not noise. */
  | 'TOO_MANY_REJECTED'
  /** Too few valid rows (or classes) to split into a training and a test set. */
  | 'TOO_FEW_ROWS';

/** One rejected row, 1-based as a person counts data rows (the header is not a row). */
export interface RowRejection {
  readonly row: number;
  /** Null when the row as a whole is broken (wrong field count, not JSON). */
  readonly column: string | null;
  /** What is wrong, naming the column: `column "sepal_length" value "abc" is not a number`. */
  readonly reason: string;
}

/**
 * The dataset cannot be trained on. Carries the first offending row and column (the one a person
 * fixes first) and the counts, so the message reads like
 * `dataset flowers rejected: all 150 rows break the data contract (first: row 1: column "sepal_length" value "abc" is not a number)`.
 */
export class DatasetRejectedError extends LifecycleError {
  override name = 'DatasetRejectedError';
  constructor(
    readonly code: DatasetRejectionCode,
    message: string,
    readonly details: {
      readonly dataset: string;
      readonly rows: number;
      readonly rejected: number;
      /** The first rejected rows (a sample, not all of them). */
      readonly examples: readonly RowRejection[];
    },
  ) {
    super(message);
  }

  /** The column of the first rejected row, when the problem is in one column. */
  get column(): string | null {
    return this.details.examples[0]?.column ?? null;
  }

  /** The first rejected row (1-based), when rows were rejected. */
  get row(): number | null {
    return this.details.examples[0]?.row ?? null;
  }
}

/** Every candidate failed; carries each one's reason. */
export class NoCandidateSucceededError extends LifecycleError {
  override name = 'NoCandidateSucceededError';
  constructor(readonly failures: readonly { readonly candidate: string; readonly error: string }[]) {
    super(
      failures.length === 0
        ? 'no candidates to select from'
        : `all ${failures.length} candidates failed: ${failures.map((f) => `${f.candidate}: ${f.error}`).join('; ')}`,
    );
  }
}

/** A candidate failed to train, evaluate or log; names it and the MLflow run marked FAILED. */
export class CandidateFailedError extends LifecycleError {
  override name = 'CandidateFailedError';
  constructor(
    readonly candidate: string,
    readonly stage: 'train' | 'evaluate' | 'log',
    readonly runId: string | null,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `${options.cause.name}: ${options.cause.message}` : '';
    super(`candidate ${candidate} failed to ${stage}${cause ? `: ${cause}` : ''}`, options);
  }
}

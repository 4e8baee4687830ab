/**
 * Errors of the training core. Both are permanent for the input at hand (retrying gives the same
 * answer) and name what is wrong in the caller's terms, so a pipeline step can report them as is.
 */
import { CoreError } from '../core-error';

export type TrainingDataCode =
  | 'EMPTY_DATA'
  | 'SHAPE_MISMATCH'
  | 'NOT_FINITE'
  | 'INVALID_LABEL'
  | 'SINGLE_CLASS'
  | 'FEATURE_MISMATCH';

/** The data given to a trainer, predictor or metric cannot be used as is. */
export class TrainingDataError extends CoreError {
  override name = 'TrainingDataError';
  constructor(
    readonly code: TrainingDataCode,
    message: string,
    /** The offending field: a feature name, `y`, `x`, `classes`, … */
    override readonly field?: string,
    /** The 0-based row of the offending value, when there is one. */
    readonly row?: number,
  ) {
    super(message);
  }
}

/** A candidate spec names an unknown family, a bad hyper-parameter, or a family unfit for the task. */
export class CandidateSpecError extends CoreError {
  override name = 'CandidateSpecError';
  /** e.g. `family`, `params.max_depth`, `metric`. */
  declare readonly field: string;
  constructor(message: string, field: string) {
    super(message, { field });
  }
}

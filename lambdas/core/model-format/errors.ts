/**
 * The one error type of the model-format module: a model directory that cannot be written as
 * asked, or that cannot be read (missing file, unparsable MLmodel, no onnx flavor, bad ONNX).
 * A directory that fails to read is corrupt or unsupported for good: retrying does not help.
 */
export type ModelFormatErrorCode =
  | 'MISSING_FILE'
  | 'INVALID_MLMODEL'
  | 'UNSUPPORTED_FLAVOR'
  | 'INVALID_ONNX'
  | 'INVALID_SIGNATURE'
  | 'INVALID_INPUT_EXAMPLE'
  | 'INVALID_DATA_CONTRACT'
  | 'INVALID_OPTIONS'
  | 'DIRECTORY_NOT_EMPTY';

export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
  constructor(
    readonly code: ModelFormatErrorCode,
    message: string,
    /** The file (relative to the model directory) or option the problem is in. */
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

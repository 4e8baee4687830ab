/**
 * Errors of the ONNX exporter and reader. Both are permanent for the model at hand: retrying the
 * same export or the same bytes gives the same answer.
 */
import { CoreError } from '../core-error';

/** The fitted model cannot be exported: its parameters are inconsistent or not supported. */
export class OnnxExportError extends CoreError {
  override name = 'OnnxExportError';
  /** Where in the fitted model the problem is, e.g. `trees[1].left[3]` or `coefficients`. */
  declare readonly field: string;
  constructor(message: string, field: string) {
    super(message, { field });
  }
}

/** The bytes are not an ONNX model this code can read (not a ModelProto, or missing its graph). */
export class OnnxFormatError extends CoreError {
  override name = 'OnnxFormatError';
  constructor(
    message: string,
    /** The external data file that is missing, when that is the problem. */
    readonly file?: string,
  ) {
    super(message);
  }
}

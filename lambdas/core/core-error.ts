/**
 * The base the core's error families extend (lifecycle, MLflow, monitoring, ONNX, training). It
 * holds the one thing they share: an error about one named input — a request field, a
 * hyper-parameter, a place in a fitted model — carries it as `field` and leads its message with
 * it, `metric: 'rmse' is not a classification metric`, so one line says where to look.
 *
 * Each class still sets its own `name` as a string literal: the bundles are minified, and the
 * state machines and the CLI read the name.
 */

export interface CoreErrorOptions extends ErrorOptions {
  /** The input at fault; the message is then `<field>: <message>`. */
  readonly field?: string;
}

/** Abstract: each family throws its own named class, never a bare CoreError. */
export abstract class CoreError extends Error {
  /** The input at fault, when the error is about one. */
  declare readonly field?: string;

  constructor(message: string, options?: CoreErrorOptions) {
    const field = options?.field;
    super(field === undefined ? message : `${field}: ${message}`, options);
    if (field !== undefined) this.field = field;
  }
}

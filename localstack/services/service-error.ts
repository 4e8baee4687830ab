/** A local service that cannot start: one clear line for people (a CLI prints it without a stack). */
export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

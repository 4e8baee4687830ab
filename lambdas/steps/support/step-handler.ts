/**
 * A pipeline step as its Lambda's handler: the step's task run with the context of the
 * function's environment (built at the first call, kept while the container lives), outages
 * mapped to TransientStepError so the state machines retry them. The step's name ties the task to
 * the catalogue: its input and output must be the ones catalogue.ts gives the step.
 *
 * Each handler in `handlers/` imports its own task module and this one, never a module that
 * reaches other steps nor the core's `index.ts` barrels where a narrower module has the export:
 * esbuild puts every module an entry reaches into the bundle, so a barrel would drag every step's
 * dependencies — onnxruntime-node's native binary among them — into every function.
 * test/cdk/bundling.test.ts bundles each function to hold that line.
 */
import type { StepInput, StepName, StepOutput } from '../catalogue';
import { defaultStepContext, type StepContext } from './step-context';
import { step } from './step-errors';

/** A step's body: its JSON input and the context it runs with (a Lambda's, or a local run's). */
export type StepTask<S extends StepName> = (
  input: StepInput<S>,
  context: StepContext,
) => Promise<StepOutput<S>>;

/** A step's Lambda handler. */
export type StepLambda<S extends StepName> = (input: StepInput<S>) => Promise<StepOutput<S>>;

/**
 * The step is named as the type argument, `stepHandler<'ingest-data'>(ingestData)`, so the name
 * costs the bundle nothing; without it nothing type-checks (`never`), so a handler cannot skip it.
 * The Lambda runtime's further arguments (its own context) are ignored: a step gets its StepContext.
 */
export function stepHandler<S extends StepName = never>(task: StepTask<NoInfer<S>>): StepLambda<S> {
  return (input) => step(() => task(input, defaultStepContext()));
}

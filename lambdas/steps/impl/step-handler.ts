/**
 * A pipeline step as its Lambda's handler: the step's function run with the context of the
 * function's environment (built at the first call, kept while the container lives), outages
 * mapped to TransientStepError so the state machines retry them.
 *
 * Each handler in lambdas/steps/ imports its own step module and this one, never the `../impl`
 * barrel nor the core's `index.ts` barrels where a narrower module has the export: esbuild puts
 * every module an entry reaches into the bundle, so a barrel would drag every step's
 * dependencies — onnxruntime-node's native binary among them — into every function.
 * test/cdk/bundling.test.ts bundles each function to hold that line.
 */
import { defaultStepContext, type StepContext } from './step-context';
import { step } from './step-errors';

/** The Lambda runtime's further arguments (its own context) are ignored: a step gets its StepContext. */
export function stepHandler<Input, Output>(
  run: (input: Input, context: StepContext) => Promise<Output>,
): (input: Input) => Promise<Output> {
  return (input) => step(() => run(input, defaultStepContext()));
}

import { Command, CommanderError } from 'commander';
import { ServiceStartError } from '../../localstack/services/services';
import { registerDrift } from './drift-command';
import { registerLocal } from './local-command';
import { CliError } from './output';
import { registerPromote } from './promote-command';
import { registerRollback } from './rollback-command';
import { registerRun } from './run-command';
import { registerStatus } from './status-command';
import { registerTrain } from './train-command';

export function buildProgram(): Command {
  const program = new Command('mlops')
    .description(
      'Serverless MLOps on AWS: pipelines, the MLflow registry and the predict API, locally or deployed',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDrift(program);
  registerLocal(program);
  registerPromote(program);
  registerRollback(program);
  registerRun(program);
  registerStatus(program);
  registerTrain(program);
  return program;
}

/** Runs the CLI and returns the exit code; known errors become one line on stderr. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message (or the help / version).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`mlops: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ServiceStartError) {
      process.stderr.write(`mlops: ${err.message}\n`);
      return 1;
    }
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`mlops: unexpected error: ${message}\n`);
    return 1;
  }
}

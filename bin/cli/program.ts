import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { localTrackingCredentials, ServiceStartError } from '../../localstack/services/services';
import { CliError } from './output';

type Register = (program: Command) => void;

/**
 * Each subcommand's module, loaded when needed: together they take seconds to import (the drift,
 * training and registry code), and `mlops local up` (npm run local:up) reusing running services
 * should take about one. In the order `--help` lists them.
 */
const SUBCOMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  drift: async () => (await import('./drift-command')).registerDrift,
  local: async () => (await import('./local-command')).registerLocal,
  mlflow: async () => (await import('./mlflow-command')).registerMlflow,
  promote: async () => (await import('./promote-command')).registerPromote,
  rollback: async () => (await import('./rollback-command')).registerRollback,
  run: async () => (await import('./run-command')).registerRun,
  status: async () => (await import('./status-command')).registerStatus,
  train: async () => (await import('./train-command')).registerTrain,
};

/**
 * The program for these arguments: with a known subcommand first, only that one is registered
 * (its help and errors read the same); otherwise all of them, for `--help` and "unknown command".
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('mlops')
    .description(
      'Serverless MLOps on AWS: pipelines, the MLflow registry and the predict API, locally or deployed',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const named = argv[2];
  const wanted =
    named !== undefined && Object.hasOwn(SUBCOMMANDS, named) ? [named] : Object.keys(SUBCOMMANDS);
  for (const name of wanted) {
    const register = await SUBCOMMANDS[name]?.();
    register?.(program);
  }
  return program;
}

/** Runs the CLI and returns the exit code; known errors become one line on stderr. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    // Talking to the local MLflow without credentials of one's own: the pipelines' user, as
    // `mlops local up` hands it out (its Python subprocesses read the same variables).
    for (const [name, value] of Object.entries(localTrackingCredentials())) process.env[name] ??= value;
    const program = await buildProgram(argv);
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

/** The project's version, from package.json (read, not imported: no bundler step for the CLI). */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

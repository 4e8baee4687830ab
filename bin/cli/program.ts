import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError } from './output';

type Register = (program: Command) => void;

interface Subcommand {
  /** As `--help` lists it: the name, `[options]`, the arguments. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<Register>;
}

/**
 * Each subcommand's module, loaded when needed: together they take seconds to import (the drift,
 * training and registry code). `mlops --help` lists them from here without loading any, so it
 * answers at once; test/unit/cli-program.test.ts checks the terms and descriptions match the
 * modules'. In the order `--help` lists them.
 */
export const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  contract: {
    term: 'contract',
    description: 'data contracts: draft one from a data file',
    load: async () => (await import('./contract-command')).registerContract,
  },
  drift: {
    term: 'drift',
    description: 'data drift of the newest window against the reference set (KS, PSI, Wasserstein, JS)',
    load: async () => (await import('./drift-command')).registerDrift,
  },
  history: {
    term: 'history [options] <model>',
    description: "every move of a served model's aliases, from the versioned serving bucket (newest first)",
    load: async () => (await import('./history-command')).registerHistory,
  },
  land: {
    term: 'land [options] <file>',
    description: 'put a data file (CSV, JSON, JSONL, Parquet) and its contract where the data pipeline reads',
    load: async () => (await import('./land-command')).registerLand,
  },
  local: {
    term: 'local',
    description: 'start and stop the local services (MLflow, Postgres, S3/SES)',
    load: async () => (await import('./local-command')).registerLocal,
  },
  mlflow: {
    term: 'mlflow',
    description: 'people and the MLflow registry: users, a tunnel to AWS',
    load: async () => (await import('./mlflow-command')).registerMlflow,
  },
  promote: {
    term: 'promote [options] <model> <version>',
    description:
      'point an MLflow alias (default Production) at a model version; the move is kept for rollback',
    load: async () => (await import('./promote-command')).registerPromote,
  },
  rollback: {
    term: 'rollback [options] <model>',
    description: 'move an MLflow alias (default Production) back to the version it pointed at before',
    load: async () => (await import('./rollback-command')).registerRollback,
  },
  run: {
    term: 'run [options] <pipeline>',
    description:
      'run a pipeline: locally through its state-machine file (default), or the deployed one with --aws',
    load: async () => (await import('./run-command')).registerRun,
  },
  status: {
    term: 'status [options] [model]',
    description: "the registry's aliases and newest versions; with --api, what the predict API has loaded",
    load: async () => (await import('./status-command')).registerStatus,
  },
  train: {
    term: 'train [options]',
    description:
      'train every candidate on a dataset, log each to MLflow (MLFLOW_TRACKING_URI), register the best as a new model version',
    load: async () => (await import('./train-command')).registerTrain,
  },
};

/**
 * The program for these arguments: with a known subcommand first, only that one is loaded and
 * registered (its help and errors read the same); otherwise every one is listed from
 * SUBCOMMANDS, for `--help` and "unknown command", without loading its module.
 */
export async function buildProgram(argv: readonly string[] = [], { load = false } = {}): Promise<Command> {
  const program = new Command('mlops')
    .description(
      'Serverless MLOps on AWS: pipelines, the MLflow registry and the predict API, locally or deployed',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // `mlops help run` is `mlops run --help`: that one is loaded too.
  const named = argv[2] === 'help' ? argv[3] : argv[2];
  if (named !== undefined && Object.hasOwn(SUBCOMMANDS, named)) {
    (await (SUBCOMMANDS[named] as Subcommand).load())(program);
    return program;
  }
  if (load) {
    for (const subcommand of Object.values(SUBCOMMANDS)) (await subcommand.load())(program);
    return program;
  }
  const terms = new Map<string, string>();
  for (const [name, { term, description }] of Object.entries(SUBCOMMANDS)) {
    program.command(name).description(description);
    terms.set(name, term);
  }
  const help = program.createHelp();
  program.configureHelp({
    subcommandTerm: (command) => terms.get(command.name()) ?? help.subcommandTerm(command),
  });
  return program;
}

/** Runs the CLI and returns the exit code; known errors become one line on stderr. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    // Talking to the local MLflow without credentials of one's own: the pipelines' user, as
    // `mlops local up` hands it out (its Python subprocesses read the same variables). Loaded only
    // for a command, so `--help` and `--version` stay instant.
    if (argv[2] !== undefined && Object.hasOwn(SUBCOMMANDS, argv[2])) {
      const { localTrackingCredentials } = await import('../../localstack/services/services');
      for (const [name, value] of Object.entries(localTrackingCredentials())) process.env[name] ??= value;
    }
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
    // By name: importing localstack/services here would slow every command's start.
    if (err instanceof Error && err.name === 'ServiceStartError') {
      process.stderr.write(`mlops: ${err.message}\n`);
      return 1;
    }
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`mlops: unexpected error: ${message}\n`);
    return 1;
  }
}

/**
 * The project's version, from package.json (read, not imported). Two folders up from this file,
 * and from the prebuilt dist/cli/mlops.mjs alike.
 */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

#!/usr/bin/env tsx
/**
 * The `mlops` command: `npx mlops --help`. Each subcommand lives in bin/cli/.
 */
import { runCli } from './cli/program';

process.exitCode = await runCli(process.argv);

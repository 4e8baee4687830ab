import type { Command } from 'commander';
import { checkAlias, DEFAULT_ALIAS, parseVersion, promote } from '../../lambdas/core/registry';
import { createOutput } from './output';
import { asCliErrors, currentActor, historyTable, registryClientFromEnv } from './registry-cli';
import { describeServing, publishAfterMove, servingTarget } from './serving-publish';

export function registerPromote(program: Command): void {
  program
    .command('promote')
    .description(
      `point an MLflow alias (default ${DEFAULT_ALIAS}) at a model version; the move is kept for rollback`,
    )
    .argument('<model>', 'registered model name')
    .argument('<version>', 'model version number (1, 2, …)')
    .option('--alias <alias>', 'alias to set: letters, digits, _ or -', DEFAULT_ALIAS)
    .option('--reason <text>', 'why, kept in the alias history')
    .option(
      '--bucket <bucket>',
      "the serving bucket to write the alias manifest to (env SERVING_BUCKET; default: the local stack's, for the local MLflow)",
    )
    .option('--json', 'print the result as one JSON line')
    .addHelpText(
      'after',
      "\nNeeds MLFLOW_TRACKING_URI. Then writes the alias's serving manifest (see --bucket), which the predict API reads.\n" +
        'Example: mlops promote iris 3 --reason "beats v2 on f1"',
    )
    .action(
      async (
        model: string,
        version: string,
        opts: { alias: string; reason?: string; bucket?: string; json?: boolean },
      ) => {
        const out = createOutput(Boolean(opts.json));
        // Arguments first, so a typo is reported even without MLflow configured.
        const request = await asCliErrors(async () => ({
          model,
          version: parseVersion(version),
          alias: checkAlias(opts.alias),
          ...(opts.reason !== undefined && { reason: opts.reason }),
        }));
        const client = registryClientFromEnv();
        const actor = currentActor();
        const change = await asCliErrors(() => promote(client, { ...request, ...(actor && { actor }) }));
        out.info(change.message);
        if (change.changed && change.history.length > 0) {
          out.info(`\nalias history (newest last):\n${historyTable(change.history)}`);
        }
        const serving = await publishAfterMove(client, servingTarget(opts.bucket), {
          model,
          alias: change.alias,
          at: change.at,
          ...(actor && { actor }),
        });
        out.info(`\n${describeServing(model, change.alias, serving)}`);
        out.result({ ...change, serving });
      },
    );
}

import type { Command } from 'commander';
import { checkAlias, DEFAULT_ALIAS, rollback } from '../../lambdas/core/registry';
import { createOutput } from './output';
import { asCliErrors, currentActor, historyTable, registryClientFromEnv } from './registry-cli';
import { describeServing, publishAfterMove, servingTarget } from './serving-publish';

export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description(`move an MLflow alias (default ${DEFAULT_ALIAS}) back to the version it pointed at before`)
    .argument('<model>', 'registered model name')
    .option('--alias <alias>', 'alias to roll back', DEFAULT_ALIAS)
    .option('--reason <text>', 'why, kept in the alias history')
    .option(
      '--bucket <bucket>',
      "the serving bucket to write the alias manifest to (env SERVING_BUCKET; default: the local stack's, for the local MLflow)",
    )
    .option('--json', 'print the result as one JSON line')
    .addHelpText(
      'after',
      '\nNeeds MLFLOW_TRACKING_URI. Each rollback undoes one promotion, as recorded by `mlops promote`\n' +
        '(and the training pipeline) in the model tag mlops.alias_history.<alias>.',
    )
    .action(
      async (model: string, opts: { alias: string; reason?: string; bucket?: string; json?: boolean }) => {
        const out = createOutput(Boolean(opts.json));
        const alias = await asCliErrors(async () => checkAlias(opts.alias));
        const client = registryClientFromEnv();
        const actor = currentActor();
        const change = await asCliErrors(() =>
          rollback(client, {
            model,
            alias,
            ...(opts.reason !== undefined && { reason: opts.reason }),
            ...(actor && { actor }),
          }),
        );
        out.info(change.message);
        out.info(`\nalias history (newest last):\n${historyTable(change.history)}`);
        const serving = await publishAfterMove(client, servingTarget(opts.bucket), {
          model,
          alias,
          at: change.at,
          ...(actor && { actor }),
        });
        out.info(`\n${describeServing(model, alias, serving)}`);
        out.result({ ...change, serving });
      },
    );
}

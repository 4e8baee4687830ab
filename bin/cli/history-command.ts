import type { Command } from 'commander';
import { type ManifestMove, manifestHistory } from '../../lambdas/core/serving-manifest';
import { s3ClientFromEnv } from '../../lambdas/serving-sync/sync-config';
import { CliError, createOutput, table } from './output';
import { shortTime } from './registry-cli';
import { servingTarget } from './serving-publish';
import { stackOutput } from './stack-outputs';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description("every move of a served model's aliases, from the versioned serving bucket (newest first)")
    .argument('<model>', 'registered model name')
    .option('--alias <alias>', 'only this alias')
    .option('--limit <n>', 'at most this many moves', (value) => positive(value))
    .option('--bucket <bucket>', "the serving bucket (env SERVING_BUCKET; default: the local stack's)")
    .option('--aws', "the deployed stack's serving bucket (its output ServingBucket)")
    .option('--stage <stage>', 'with --aws: the stack MlopsStack-<stage> (default dev)', 'dev')
    .option('--json', 'print the moves as one JSON line')
    .addHelpText(
      'after',
      "\nEach write of an alias's serving manifest is one move: the version, when, who and how\n" +
        '(cli: mlops promote/rollback, pipeline: the training pipeline, webhook: a move in MLflow\n' +
        'reported by its webhook, reconciler: a move found by the minutely check). A removed alias\n' +
        'shows as "alias deleted". Example: mlops history iris --alias Production',
    )
    .action(
      async (
        model: string,
        opts: {
          alias?: string;
          limit?: number;
          bucket?: string;
          aws?: boolean;
          stage: string;
          json?: boolean;
        },
      ) => {
        const out = createOutput(Boolean(opts.json));
        let bucket: string;
        let env: NodeJS.ProcessEnv;
        if (opts.aws && opts.bucket === undefined) {
          bucket = await stackOutput(`MlopsStack-${opts.stage}`, 'ServingBucket');
          env = process.env;
        } else {
          // The tracking URI plays no part here: the local stack's bucket whenever there is one.
          const target = servingTarget(opts.bucket, { ...process.env, MLFLOW_TRACKING_URI: undefined });
          if (!target) {
            throw new CliError(
              'no serving bucket: pass --bucket, set SERVING_BUCKET, use --aws, or start the local stack (mlops local up)',
              2,
            );
          }
          bucket = target.bucket;
          env = target.env;
        }
        const s3 = s3ClientFromEnv(env);
        let moves: ManifestMove[];
        try {
          moves = await manifestHistory(s3, bucket, model, {
            ...(opts.alias !== undefined && { alias: opts.alias }),
            ...(opts.limit !== undefined && { limit: opts.limit }),
          });
        } catch (error) {
          throw new CliError(
            `reading the history in s3://${bucket}: ${(error as Error).name}: ${(error as Error).message}`,
          );
        } finally {
          s3.destroy();
        }
        const scope = opts.alias === undefined ? model : `${model}@${opts.alias}`;
        if (moves.length === 0)
          out.info(`no serving manifest was ever written for ${scope} in s3://${bucket}`);
        else out.info(`${scope} in s3://${bucket} (newest first)\n${historyTable(moves)}`);
        out.result({ model, alias: opts.alias ?? null, bucket, moves });
      },
    );
}

function historyTable(moves: readonly ManifestMove[]): string {
  return table(
    ['AT', 'ALIAS', 'VERSION', 'BY', 'VIA', 'RUN ID'],
    moves.map((move) => [
      shortTime(move.at),
      move.alias,
      move.kind === 'deleted' ? 'alias deleted' : (move.version ?? `unreadable: ${move.problem ?? '?'}`),
      move.by ?? '-',
      move.via ?? '-',
      move.runId ?? '-',
    ]),
  );
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new CliError(`--limit must be a positive whole number, got '${value}'`, 2);
  return parsed;
}

/**
 * `mlops land <file> --dataset <name>`: puts a CSV, JSON, JSON Lines or Parquet file and its data
 * contract where the data pipeline looks (`landing/<dataset>/<batch>/` of the landing bucket),
 * locally (the local S3 endpoint, started if needed) or with --aws in the deployed landing bucket,
 * and prints the command that publishes it.
 */
import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { s3ClientFrom } from '../../lambdas/steps/support/step-context';
import { sdkStepFunctionsApi } from '../../localstack/deploy/execution-follower';
import {
  batchName,
  type Landed,
  landingKeys,
  type PreparedLanding,
  prepareLanding,
  putLanding,
} from './landing';
import { CliError, createOutput, type Output } from './output';
import { asAwsCliError, createStepFunctionsClient, findStateMachineArn } from './run-aws';
import { deployedStateMachineName } from './run-input';
import { ensureLocalServices, localDefaultBuckets } from './run-local';

export interface RawLandOptions {
  readonly dataset?: string;
  readonly contract?: string;
  readonly batch?: string;
  readonly bucket?: string;
  readonly aws?: boolean;
  readonly stage?: string;
  readonly json?: boolean;
}

const EXAMPLES = `
The file lands as s3://<landing bucket>/landing/<dataset>/<batch>/<file name>, its contract beside
it as input_schema.json (from --contract, else input_schema.json beside the file, else the bundled
dataset's of the same name). Nothing is written unless the file loads under the contract.

Examples:
  $ mlops contract infer sales.csv --dataset sales --target churned -o sales.contract.json
  $ mlops land sales.csv --dataset sales --contract sales.contract.json
  $ mlops land sales.parquet --dataset sales --contract sales.contract.json --aws --stage dev`;

export function registerLand(program: Command): void {
  program
    .command('land')
    .description('put a data file (CSV, JSON, JSONL, Parquet) and its contract where the data pipeline reads')
    .argument('<file>', 'the data file: .csv, .json, .jsonl/.ndjson or .parquet/.pq')
    .requiredOption('--dataset <name>', 'the dataset it belongs to (landing/<dataset>/…)')
    .option(
      '--contract <file>',
      'its data contract (default: input_schema.json beside the file, or the bundled one)',
    )
    .option('--batch <name>', 'the batch folder (default: the UTC time, e.g. 2026-12-03T161502Z)')
    .option('--bucket <name>', "the landing bucket (default: the local one; with --aws the stack's)")
    .option('--aws', 'land in the deployed landing bucket (AWS credentials and region from the SDK chain)')
    .option('--stage <stage>', 'with --aws: the stage whose landing bucket to use (default dev)')
    .option('--json', 'print {bucket, prefix, key, contractKey, rows, next} as one JSON line')
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, raw: RawLandOptions) => {
      const out = createOutput(Boolean(raw.json));
      const landed = await landCommand(file, raw, out);
      const next = nextCommand(raw, landed);
      out.info(`landed s3://${landed.bucket}/${landed.key}\nnext: ${next}`);
      out.result({ ...landed, next });
    });
}

/** Checks, then lands; shared with `mlops run data --file`. */
export async function landCommand(
  file: string,
  raw: RawLandOptions,
  out: Output,
): Promise<Landed & { readonly rows: PreparedLanding['rows'] }> {
  const dataset = nameOf('--dataset', raw.dataset);
  const batch = raw.batch === undefined ? batchName() : nameOf('--batch', raw.batch);
  if (raw.stage !== undefined && !raw.aws) throw new CliError('--stage applies only with --aws', 2);
  if (raw.bucket !== undefined && !BUCKET.test(raw.bucket)) {
    throw new CliError(`--bucket: "${raw.bucket}" is not an S3 bucket name`, 2);
  }
  const prepared = await prepareLanding(file, dataset, raw.contract);
  const { rows } = prepared;
  out.progress(
    `${file}: ${rows.input} rows, ${rows.valid} fit the contract (${prepared.contractSource})${rows.quarantined > 0 ? `, ${rows.quarantined} will be quarantined (first: ${prepared.firstRejection})` : ''}`,
  );
  const { prefix } = landingKeys(dataset, batch, file);
  if (raw.aws) {
    const stage = raw.stage ?? 'dev';
    const bucket = raw.bucket ?? process.env.LANDING_BUCKET?.trim() ?? (await deployedLandingBucket(stage));
    const s3 = s3ClientFrom(process.env);
    try {
      return { ...(await putLanding(s3, bucket, prefix, prepared)), rows };
    } catch (error) {
      throw asAwsCliError(error, 'S3');
    } finally {
      s3.destroy();
    }
  }
  await ensureLocalServices(out.progress);
  const bucket = raw.bucket ?? (await localDefaultBuckets()).landing;
  const { ensureLocalBuckets } = await import('../../localstack/runner/pipelines');
  const s3 = s3ClientFrom(process.env);
  try {
    await ensureLocalBuckets(s3, [bucket]);
    return { ...(await putLanding(s3, bucket, prefix, prepared)), rows };
  } finally {
    s3.destroy();
  }
}

/** What to type next: the data pipeline on this batch. */
export function nextCommand(raw: RawLandOptions, landed: Landed): string {
  const dataset = raw.dataset?.trim() ?? '';
  return raw.aws
    ? `mlops run data --aws --stage ${raw.stage ?? 'dev'} --dataset ${dataset} --landing-key s3://${landed.bucket}/${landed.prefix}`
    : `mlops run data --dataset ${dataset} --landing-key ${landed.prefix}`;
}

/**
 * The deployed stack's landing bucket: the `LANDING_BUCKET` its training pipeline hands the
 * SageMaker job (the stack output `LandingBucket` holds the same name).
 */
async function deployedLandingBucket(stage: string): Promise<string> {
  const client = createStepFunctionsClient();
  const name = deployedStateMachineName(stage, 'training');
  try {
    const arn = await findStateMachineArn(sdkStepFunctionsApi(client), name);
    const found = arn
      ? await client.send(new DescribeStateMachineCommand({ stateMachineArn: arn }))
      : undefined;
    const bucket = found && /"LANDING_BUCKET"\s*:\s*"([^"$]+)"/.exec(found.definition ?? '')?.[1];
    if (!bucket) {
      throw new CliError(
        `cannot find the landing bucket of stage ${stage} (no state machine ${name} naming one): pass --bucket <the stack output LandingBucket>`,
        2,
      );
    }
    return bucket;
  } catch (error) {
    throw asAwsCliError(error, 'Step Functions');
  } finally {
    client.destroy();
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function nameOf(flag: string, value: string | undefined): string {
  const name = value?.trim() ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new CliError(`${flag} must be a name of letters, digits, '.', '_' or '-', got "${value ?? ''}"`, 2);
  }
  return name;
}

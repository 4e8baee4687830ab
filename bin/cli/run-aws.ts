/**
 * `mlops run --aws`: the Step Functions client, finding the deployed state machine by name, and
 * SDK errors as CLI errors. Starting and following the execution is the follower `npm run
 * local:e2e` uses too (localstack/deploy/execution-follower.ts).
 *
 * Region and credentials come from the AWS SDK's chain (env, profile, SSO, instance role). The
 * endpoint too: the SDK reads AWS_ENDPOINT_URL_SFN (its id for Step Functions) and
 * AWS_ENDPOINT_URL by itself; AWS_ENDPOINT_URL_STEPFUNCTIONS, the name LocalStack's docs use,
 * is honoured here on top.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { StepFunctionsApi } from '../../localstack/deploy/execution-follower';
import { CliError } from './output';

/** The endpoint the client was pointed at, when not AWS's own (for the progress line). */
export function stepFunctionsEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return (
    env.AWS_ENDPOINT_URL_STEPFUNCTIONS?.trim() ||
    env.AWS_ENDPOINT_URL_SFN?.trim() ||
    env.AWS_ENDPOINT_URL?.trim() ||
    undefined
  );
}

export function createStepFunctionsClient(env: NodeJS.ProcessEnv = process.env): SFNClient {
  const endpoint = env.AWS_ENDPOINT_URL_STEPFUNCTIONS?.trim();
  return new SFNClient(endpoint ? { endpoint } : {});
}

/** The ARN of the state machine with this name, reading every page of ListStateMachines. */
export async function findStateMachineArn(
  api: StepFunctionsApi,
  name: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await api.listStateMachines(nextToken, signal);
    const found = page.stateMachines.find((machine) => machine.name === name);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** SDK errors as one clear line: bad names and inputs exit 2, the rest 1. */
export function asAwsCliError(error: unknown, what: string): unknown {
  if (error instanceof CliError) return error;
  if (!(error instanceof Error)) return error;
  const name = error.name;
  const message = error.message;
  if (/region is missing/i.test(message)) {
    return new CliError(`${what}: no AWS region: set AWS_REGION (or a profile with a region)`, 2);
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new CliError(
      `${what}: no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      2,
    );
  }
  const input = new Set([
    'StateMachineDoesNotExist',
    'ExecutionAlreadyExists',
    'InvalidArn',
    'InvalidName',
    'InvalidExecutionInput',
    'ValidationException',
  ]);
  return new CliError(`${what}: ${name}: ${message}`, input.has(name) ? 2 : 1);
}

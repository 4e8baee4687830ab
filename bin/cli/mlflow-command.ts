/**
 * `mlops mlflow …`: people's way into the MLflow registry behind its basic auth.
 *
 * - `mlops mlflow user add <name> [--role reader|writer]`: creates (or updates) an MLflow user as
 *   the admin, with docker/mlflow/mlflow_users.py (the script the server's start-up runs too).
 *   Locally the admin password comes from `.local/mlflow-auth.json`; with `--aws --stage <stage>`
 *   it comes from Secrets Manager and the server is reached through `mlops mlflow connect`.
 * - `mlops mlflow connect --stage <stage> [--port 5000]`: an SSM port-forwarding session through
 *   an MLflow task (ECS Exec) to the internal load balancer, so the UI and API of a deployed stack
 *   open on http://localhost:<port> without MLflow being public.
 *
 * The AWS side runs the `aws` CLI (and its session-manager-plugin): the arguments are built by the
 * pure functions below, which the unit tests check.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { CliError, createOutput } from './output';

export const MLFLOW_ROLES = ['reader', 'writer'] as const;
export type MlflowRole = (typeof MLFLOW_ROLES)[number];

/** The CloudFormation outputs the MLflow service writes (lib/mlflow-service.ts). */
export const CONNECT_OUTPUTS = {
  cluster: 'MlflowClusterName',
  service: 'MlflowServiceName',
  host: 'MlflowLoadBalancerHost',
  port: 'MlflowLoadBalancerPort',
  adminSecret: 'MlflowAdminSecretArn',
  readerSecret: 'MlflowReaderSecretArn',
} as const;

export interface ConnectTarget {
  readonly cluster: string;
  readonly service: string;
  readonly host: string;
  readonly remotePort: number;
  readonly adminSecretArn: string;
  readonly readerSecretArn: string;
}

/** `MlopsStack-<stage>`, as bin/app.ts names it. */
export function stackName(stage: string): string {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(stage)) {
    throw new CliError(`--stage must be a stage name like dev or prod, got "${stage}"`, 2);
  }
  return `MlopsStack-${stage}`;
}

export function parseLocalPort(raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65_535) {
    throw new CliError(`--port must be a port number (1-65535), got "${raw}"`, 2);
  }
  return port;
}

export function parseRole(raw: string): MlflowRole {
  if (!(MLFLOW_ROLES as readonly string[]).includes(raw)) {
    throw new CliError(`--role must be reader or writer, got "${raw}"`, 2);
  }
  return raw as MlflowRole;
}

export function parseUserName(raw: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(raw)) {
    throw new CliError(`<name> must be letters, digits, _ . @ - (up to 64), got "${raw}"`, 2);
  }
  return raw;
}

/** The stack's outputs (`aws cloudformation describe-stacks` JSON) as the connect target. */
export function connectTargetFromOutputs(stack: string, outputs: unknown): ConnectTarget {
  const list = Array.isArray(outputs) ? (outputs as { OutputKey?: string; OutputValue?: string }[]) : [];
  const value = (key: string): string => {
    const found = list.find((output) => output.OutputKey === key)?.OutputValue;
    if (!found) {
      throw new CliError(
        `${stack} has no output ${key}: deploy the stack with this version (MLflow on ECS, not under an emulator)`,
      );
    }
    return found;
  };
  return {
    cluster: value(CONNECT_OUTPUTS.cluster),
    service: value(CONNECT_OUTPUTS.service),
    host: value(CONNECT_OUTPUTS.host),
    remotePort: Number(value(CONNECT_OUTPUTS.port)),
    adminSecretArn: value(CONNECT_OUTPUTS.adminSecret),
    readerSecretArn: value(CONNECT_OUTPUTS.readerSecret),
  };
}

export function describeStackArgs(stack: string): string[] {
  return [
    'cloudformation',
    'describe-stacks',
    '--stack-name',
    stack,
    '--query',
    'Stacks[0].Outputs',
    '--output',
    'json',
  ];
}

export function listTasksArgs(target: ConnectTarget): string[] {
  return [
    'ecs',
    'list-tasks',
    '--cluster',
    target.cluster,
    '--service-name',
    target.service,
    '--desired-status',
    'RUNNING',
    '--query',
    'taskArns[0]',
    '--output',
    'text',
  ];
}

export function describeTaskArgs(target: ConnectTarget, taskArn: string): string[] {
  return [
    'ecs',
    'describe-tasks',
    '--cluster',
    target.cluster,
    '--tasks',
    taskArn,
    '--query',
    "tasks[0].containers[?name=='mlflow'].runtimeId | [0]",
    '--output',
    'text',
  ];
}

/** The SSM target of an ECS task's container: `ecs:<cluster>_<task id>_<container runtime id>`. */
export function ssmTarget(cluster: string, taskArn: string, runtimeId: string): string {
  const taskId = taskArn.split('/').pop() ?? '';
  if (!taskId || !runtimeId || runtimeId === 'None') {
    throw new CliError(`no running MLflow container to connect through in cluster ${cluster}`);
  }
  return `ecs:${cluster}_${taskId}_${runtimeId}`;
}

export function startSessionArgs(target: ConnectTarget, ssm: string, localPort: number): string[] {
  return [
    'ssm',
    'start-session',
    '--target',
    ssm,
    '--document-name',
    'AWS-StartPortForwardingSessionToRemoteHost',
    '--parameters',
    JSON.stringify({
      host: [target.host],
      portNumber: [String(target.remotePort)],
      localPortNumber: [String(localPort)],
    }),
  ];
}

export function secretValueArgs(secretArn: string): string[] {
  return [
    'secretsmanager',
    'get-secret-value',
    '--secret-id',
    secretArn,
    '--query',
    'SecretString',
    '--output',
    'text',
  ];
}

/** What `connect` prints once the session is being opened. */
export function connectInstructions(target: ConnectTarget, localPort: number): string {
  const scheme = target.remotePort === 443 ? 'https' : 'http';
  const password = (arn: string) => `aws ${secretValueArgs(arn).join(' ')} | jq -r .password`;
  return [
    `MLflow UI and API: ${scheme}://localhost:${localPort}  (while this session runs; Ctrl-C ends it)`,
    '',
    'Log in with basic auth. Passwords are in Secrets Manager:',
    `  admin:   ${password(target.adminSecretArn)}`,
    `  reader:  ${password(target.readerSecretArn)}`,
    `Add a person:  mlops mlflow user add <name> --role reader --aws --stage <stage> --url ${scheme}://localhost:${localPort}`,
  ].join('\n');
}

/** The absolute path of an executable on PATH, or undefined (no process is started to look). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The AWS tools `connect` needs, or a CliError saying which is missing and where to get it. */
export function requireSessionTools(env: NodeJS.ProcessEnv = process.env): string {
  const aws = findOnPath('aws', env);
  if (!aws) {
    throw new CliError(
      'the AWS CLI (aws) is not on PATH: install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)',
    );
  }
  if (!findOnPath('session-manager-plugin', env)) {
    throw new CliError(
      'the Session Manager plugin (session-manager-plugin) is not on PATH: install it (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)',
    );
  }
  return aws;
}

function requireAwsCli(env: NodeJS.ProcessEnv = process.env): string {
  const aws = findOnPath('aws', env);
  if (!aws) throw new CliError('the AWS CLI (aws) is not on PATH: install it to read the admin secret');
  return aws;
}

function awsText(aws: string, args: string[]): string {
  const result = spawnSync(aws, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new CliError(
      `aws ${args.slice(0, 2).join(' ')} failed: ${(result.stderr || result.error?.message || '').trim()}`,
    );
  }
  return result.stdout.trim();
}

async function resolveConnectTarget(aws: string, stage: string): Promise<ConnectTarget> {
  const stack = stackName(stage);
  const outputs = JSON.parse(awsText(aws, describeStackArgs(stack)) || '[]');
  return connectTargetFromOutputs(stack, outputs);
}

async function connect(opts: { stage: string; port: string }): Promise<void> {
  const localPort = parseLocalPort(opts.port);
  const aws = requireSessionTools();
  const target = await resolveConnectTarget(aws, opts.stage);
  const taskArn = awsText(aws, listTasksArgs(target));
  const runtimeId = awsText(aws, describeTaskArgs(target, taskArn));
  const ssm = ssmTarget(target.cluster, taskArn, runtimeId);
  process.stderr.write(`${connectInstructions(target, localPort)}\n\n`);
  const child = spawn(aws, startSessionArgs(target, ssm, localPort), { stdio: 'inherit' });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new CliError(`aws ssm start-session ended with exit code ${code}`);
}

interface UserAddOptions {
  role: string;
  aws?: boolean;
  stage?: string;
  url?: string;
  json?: boolean;
}

async function userAdd(rawName: string, opts: UserAddOptions): Promise<void> {
  const name = parseUserName(rawName);
  const role = parseRole(opts.role);
  const out = createOutput(Boolean(opts.json));
  const services = await import('../../localstack/services/services');
  const { generatePassword } = await import('../../localstack/services/mlflow-auth');
  let url: string;
  let adminPassword: string;
  if (opts.aws) {
    if (!opts.stage) throw new CliError('--aws needs --stage (the stage whose MLflow to add the user to)', 2);
    const aws = requireAwsCli();
    const target = await resolveConnectTarget(aws, opts.stage);
    const secret = JSON.parse(awsText(aws, secretValueArgs(target.adminSecretArn))) as { password?: string };
    if (!secret.password) throw new CliError(`${target.adminSecretArn} has no password field`);
    adminPassword = secret.password;
    url = opts.url ?? 'http://localhost:5000';
  } else {
    const stored = services.readMlflowCredentials();
    if (!stored) {
      throw new CliError(
        `no local MLflow credentials in ${services.credentialsFile()}: run mlops local up first`,
      );
    }
    adminPassword = stored.adminPassword;
    url = opts.url ?? services.endpoints(services.runningBackendStore() ?? 'postgres').MLFLOW_TRACKING_URI;
  }
  const password = generatePassword();
  const result = spawnSync(
    join(services.ROOT, 'localstack', '.venv', 'bin', 'python'),
    [
      join(services.ROOT, 'docker', 'mlflow', 'mlflow_users.py'),
      '--url',
      url,
      '--user',
      `${name}:${role}:MLOPS_NEW_USER_PASSWORD`,
    ],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        MLFLOW_AUTH_ADMIN_USERNAME: services.MLFLOW_ADMIN_USER,
        MLFLOW_AUTH_ADMIN_PASSWORD: adminPassword,
        MLOPS_NEW_USER_PASSWORD: password,
      },
    },
  );
  if (result.status !== 0) {
    throw new CliError(
      (result.stderr || result.error?.message || 'mlflow_users.py failed')
        .trim()
        .replace(/^mlflow_users: /, ''),
    );
  }
  out.progress(result.stdout.trim());
  out.info(
    [
      `MLflow user ${name} (${role}) on ${url}`,
      `  password: ${password}`,
      'Shown once: hand it over safely. Running this again sets a new password.',
    ].join('\n'),
  );
  out.result({ username: name, role, password, url });
}

export function registerMlflow(program: Command): void {
  const mlflow = program
    .command('mlflow')
    .description('people and the MLflow registry: users, a tunnel to AWS');
  const user = mlflow.command('user').description('MLflow users (basic auth)');
  user
    .command('add <name>')
    .description('create an MLflow user (or give an existing one a new password and this role)')
    .option('--role <role>', 'reader (read-only) or writer (runs, versions, aliases)', 'reader')
    .option(
      '--aws',
      'the deployed MLflow of --stage, through `mlops mlflow connect` (admin password from Secrets Manager)',
    )
    .option('--stage <stage>', 'with --aws: the stage (dev, prod)')
    .option('--url <url>', 'the MLflow server (default: the local one; with --aws http://localhost:5000)')
    .option('--json', 'print the user and password as one JSON line')
    .action(userAdd);
  mlflow
    .command('connect')
    .description(
      'open the MLflow UI and API of a deployed stage on localhost (ECS Exec + SSM port forwarding)',
    )
    .requiredOption('--stage <stage>', 'the stage (dev, prod)')
    .option('--port <port>', 'the local port', '5000')
    .action(connect);
}

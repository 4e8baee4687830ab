import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONNECT_OUTPUTS,
  type ConnectTarget,
  connectInstructions,
  connectTargetFromOutputs,
  describeStackArgs,
  describeTaskArgs,
  listTasksArgs,
  parseLocalPort,
  parseRole,
  parseUserName,
  requireSessionTools,
  secretValueArgs,
  ssmTarget,
  stackName,
  startSessionArgs,
} from '../../bin/cli/mlflow-command';

const outputs = [
  { OutputKey: CONNECT_OUTPUTS.cluster, OutputValue: 'MlopsStack-dev-MlflowCluster123' },
  { OutputKey: CONNECT_OUTPUTS.service, OutputValue: 'MlopsStack-dev-MlflowService456' },
  { OutputKey: CONNECT_OUTPUTS.host, OutputValue: 'internal-Mlops-Mlflow-1.eu-west-1.elb.amazonaws.com' },
  { OutputKey: CONNECT_OUTPUTS.port, OutputValue: '80' },
  {
    OutputKey: CONNECT_OUTPUTS.adminSecret,
    OutputValue: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin-AbC',
  },
  {
    OutputKey: CONNECT_OUTPUTS.readerSecret,
    OutputValue: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:reader-XyZ',
  },
  { OutputKey: 'PredictApiUrl', OutputValue: 'https://example' },
];

describe('mlops mlflow connect: the aws CLI calls it makes', () => {
  const target: ConnectTarget = connectTargetFromOutputs('MlopsStack-dev', outputs);

  it('reads the stack MlopsStack-<stage> and its MLflow outputs', () => {
    expect(stackName('dev')).toBe('MlopsStack-dev');
    expect(describeStackArgs('MlopsStack-dev')).toEqual([
      'cloudformation',
      'describe-stacks',
      '--stack-name',
      'MlopsStack-dev',
      '--query',
      'Stacks[0].Outputs',
      '--output',
      'json',
    ]);
    expect(target).toEqual({
      cluster: 'MlopsStack-dev-MlflowCluster123',
      service: 'MlopsStack-dev-MlflowService456',
      host: 'internal-Mlops-Mlflow-1.eu-west-1.elb.amazonaws.com',
      remotePort: 80,
      adminSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin-AbC',
      readerSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:reader-XyZ',
    });
  });

  it('names the output a stack without MLflow on ECS lacks', () => {
    expect(() => connectTargetFromOutputs('MlopsStack-dev', outputs.slice(1))).toThrow(
      'MlopsStack-dev has no output MlflowClusterName',
    );
    expect(() => connectTargetFromOutputs('MlopsStack-dev', null)).toThrow(/no output MlflowClusterName/);
  });

  it('finds a running task of the service and its mlflow container, and builds the SSM target', () => {
    expect(listTasksArgs(target)).toEqual([
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
    ]);
    const task = 'arn:aws:ecs:eu-west-1:123456789012:task/MlopsStack-dev-MlflowCluster123/0123abcd';
    expect(describeTaskArgs(target, task)).toContain("tasks[0].containers[?name=='mlflow'].runtimeId | [0]");
    expect(ssmTarget(target.cluster, task, '0123abcd-111')).toBe(
      'ecs:MlopsStack-dev-MlflowCluster123_0123abcd_0123abcd-111',
    );
    expect(() => ssmTarget(target.cluster, 'None', 'None')).toThrow(
      'no running MLflow container to connect through in cluster MlopsStack-dev-MlflowCluster123',
    );
  });

  it('forwards the local port to the load balancer with AWS-StartPortForwardingSessionToRemoteHost', () => {
    const args = startSessionArgs(target, 'ecs:c_t_r', 5001);
    expect(args.slice(0, 6)).toEqual([
      'ssm',
      'start-session',
      '--target',
      'ecs:c_t_r',
      '--document-name',
      'AWS-StartPortForwardingSessionToRemoteHost',
    ]);
    expect(JSON.parse(args[7] ?? '')).toEqual({
      host: [target.host],
      portNumber: ['80'],
      localPortNumber: ['5001'],
    });
  });

  it('prints the local URL and how to read the admin and reader passwords', () => {
    const text = connectInstructions(target, 5001);
    expect(text).toContain('http://localhost:5001');
    expect(text).toContain(`aws ${secretValueArgs(target.adminSecretArn).join(' ')} | jq -r .password`);
    expect(text).toContain(target.readerSecretArn);
    expect(connectInstructions({ ...target, remotePort: 443 }, 5000)).toContain('https://localhost:5000');
  });

  it('says which tool is missing when aws or session-manager-plugin is not on PATH', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mlops-path-'));
    expect(() => requireSessionTools({ PATH: empty })).toThrow(
      /the AWS CLI \(aws\) is not on PATH: install it/,
    );
    const withAws = mkdtempSync(join(tmpdir(), 'mlops-path-'));
    writeFileSync(join(withAws, 'aws'), '#!/bin/sh\n');
    chmodSync(join(withAws, 'aws'), 0o755);
    expect(() => requireSessionTools({ PATH: withAws })).toThrow(
      /the Session Manager plugin \(session-manager-plugin\) is not on PATH/,
    );
    writeFileSync(join(withAws, 'session-manager-plugin'), '#!/bin/sh\n');
    chmodSync(join(withAws, 'session-manager-plugin'), 0o755);
    expect(requireSessionTools({ PATH: withAws })).toBe(join(withAws, 'aws'));
  });

  it('refuses bad options, naming them', () => {
    expect(() => stackName('Dev Stage')).toThrow(
      '--stage must be a stage name like dev or prod, got "Dev Stage"',
    );
    expect(() => parseLocalPort('70000')).toThrow('--port must be a port number (1-65535), got "70000"');
    expect(() => parseLocalPort('50a')).toThrow(/--port must be a port number/);
    expect(parseLocalPort('5000')).toBe(5000);
    expect(() => parseRole('admin')).toThrow('--role must be reader or writer, got "admin"');
    expect(parseRole('writer')).toBe('writer');
    expect(() => parseUserName('a b')).toThrow(
      '<name> must be letters, digits, _ . @ - (up to 64), got "a b"',
    );
    expect(parseUserName('ada@example.com')).toBe('ada@example.com');
  });
});

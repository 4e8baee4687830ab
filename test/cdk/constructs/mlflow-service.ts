import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

type Json = Record<string, unknown>;

function mlflowContainer(stage: 'dev' | 'prod') {
  const { template } = synthStage(stage);
  const definitions = Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition')).flatMap(
    (task) => task.Properties.ContainerDefinitions as Json[],
  );
  const container = definitions.find((c) => c.Name === 'mlflow');
  if (!container) throw new Error('no mlflow container');
  const env = Object.fromEntries(
    (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
  );
  return { container, env };
}

describe('Network', () => {
  it('spans two AZs with no NAT gateway: the tasks run in the public subnets with public IPs', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const { template, stack } = synthStage(stage);
      expect(Object.keys(template.findResources('AWS::EC2::Subnet'))).toHaveLength(6);
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.resourceCountIs('AWS::EC2::EIP', 0);
      const publicSubnets = stack.network.vpc.publicSubnets.map((subnet) => stack.resolve(subnet.subnetId));
      for (const service of Object.values(resourcesOfType(template, 'AWS::ECS::Service'))) {
        expect(service.Properties.NetworkConfiguration).toEqual({
          AwsvpcConfiguration: expect.objectContaining({
            AssignPublicIp: 'ENABLED',
            Subnets: publicSubnets,
          }),
        });
      }
      // No route out of the private and isolated subnets.
      const routes = Object.values(resourcesOfType(template, 'AWS::EC2::Route'));
      expect(routes.every((route) => route.Properties.GatewayId !== undefined)).toBe(true);
      expect(routes).toHaveLength(2);
    }
  });

  it('logs all VPC traffic to the access-log bucket and routes S3 through a gateway endpoint', () => {
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 's3',
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });
});

describe('MlflowService', () => {
  it('runs MLflow on Graviton, on Spot and reached through Cloud Map without a load balancer in dev', () => {
    const { template } = synthStage('dev');
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'mlflow', HealthCheck: Match.objectLike({}) })],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    for (const service of Object.values(resourcesOfType(template, 'AWS::ECS::Service'))) {
      expect(service.Properties.CapacityProviderStrategy).toEqual([
        { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
      ]);
    }
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', { Name: 'mlflow' });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE_SPOT']),
    });
    expect(mlflowContainer('dev').env.MLFLOW_SERVER_ALLOWED_HOSTS).toContain('mlflow.mlflow.internal:*');
  });

  it('runs MLflow from the project image behind an internal load balancer with access logs in prod', () => {
    const { template } = synthStage('prod');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    for (const service of Object.values(resourcesOfType(template, 'AWS::ECS::Service'))) {
      expect(service.Properties.CapacityProviderStrategy).toBeUndefined();
    }
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        Match.objectLike({ Key: 'access_logs.s3.bucket' }),
        { Key: 'access_logs.s3.prefix', Value: 'alb/mlflow' },
      ]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 5000,
      TargetType: 'ip',
      HealthCheckPath: '/health',
    });
    const { container, env } = mlflowContainer('prod');
    expect(JSON.stringify(container.Image)).toContain('cdk-hnb659fds-container-assets');
    expect(env.ARTIFACTS_BUCKET).toEqual({ Ref: expect.stringMatching(/^DataLakeArtifacts/) });
    expect(container.Secrets).toEqual([
      { Name: 'DB_USER', ValueFrom: expect.anything() },
      { Name: 'DB_PASSWORD', ValueFrom: expect.anything() },
      { Name: 'MLFLOW_AUTH_ADMIN_PASSWORD', ValueFrom: expect.anything() },
      { Name: 'MLFLOW_PIPELINES_PASSWORD', ValueFrom: expect.anything() },
      { Name: 'MLFLOW_READER_PASSWORD', ValueFrom: expect.anything() },
      { Name: 'MLFLOW_FLASK_SERVER_SECRET_KEY', ValueFrom: expect.anything() },
    ]);
  });

  it('runs the basic-auth app with admin, pipelines and reader passwords from generated secrets', () => {
    const { container, env } = mlflowContainer('dev');
    expect(env).toMatchObject({
      MLFLOW_AUTH_ADMIN_USERNAME: 'admin',
      MLFLOW_PIPELINES_USERNAME: 'pipelines',
      MLFLOW_READER_USERNAME: 'reader',
    });
    const secretOf = (name: string) =>
      JSON.stringify(
        (container.Secrets as { Name: string; ValueFrom: unknown }[]).find((s) => s.Name === name),
      );
    expect(secretOf('MLFLOW_AUTH_ADMIN_PASSWORD')).toMatch(/"MlflowAdminSecret[0-9A-F]{8}".*:password::/);
    expect(secretOf('MLFLOW_PIPELINES_PASSWORD')).toMatch(/"MlflowPipelinesSecret[0-9A-F]{8}".*:password::/);
    expect(secretOf('MLFLOW_READER_PASSWORD')).toMatch(/"MlflowReaderSecret[0-9A-F]{8}".*:password::/);
    for (const [user, secret] of [
      ['admin', 'MlflowAdminSecret'],
      ['pipelines', 'MlflowPipelinesSecret'],
      ['reader', 'MlflowReaderSecret'],
    ] as const) {
      const [resource] = Object.entries(
        resourcesOfType(synthStage('dev').template, 'AWS::SecretsManager::Secret'),
      ).filter(([logicalId]) => logicalId.startsWith(secret));
      expect(resource?.[1].Properties.GenerateSecretString, user).toMatchObject({
        SecretStringTemplate: JSON.stringify({ username: user }),
        GenerateStringKey: 'password',
        PasswordLength: 32,
      });
    }
  });

  it('enables ECS Exec for mlops mlflow connect, with the ssmmessages permissions, and outputs what it needs', () => {
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::ECS::Service', {
      EnableExecuteCommand: true,
      ServiceRegistries: Match.anyValue(),
    });
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).filter((p) =>
      ((p.Properties.Roles as { Ref: string }[]) ?? []).some((r) => /^MlflowTaskTaskRole/.test(r.Ref)),
    );
    const actions = policies.flatMap((p) =>
      (
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement ?? []
      ).flatMap((st) => [st.Action].flat()),
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ]),
    );
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const key of [
      'MlflowClusterName',
      'MlflowServiceName',
      'MlflowLoadBalancerHost',
      'MlflowLoadBalancerPort',
      'MlflowAdminSecretArn',
      'MlflowReaderSecretArn',
    ]) {
      expect(outputs[key], key).toBeDefined();
    }
    // dev has no load balancer: the session forwards to the task's Cloud Map name and port.
    expect(outputs.MlflowLoadBalancerHost?.Value).toBe('mlflow.mlflow.internal');
    expect(outputs.MlflowLoadBalancerPort?.Value).toBe('5000');
  });

  it('hosts Postgres on ECS with an encrypted EFS volume and finds it through Cloud Map in dev', () => {
    const { template } = synthStage('dev');
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
    template.hasResourceProperties('AWS::EFS::FileSystem', { Encrypted: true });
    template.hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: '999', Gid: '999' },
      RootDirectory: { Path: '/pgdata' },
    });
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'postgres',
      DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 10 }] },
    });
    // Never two postgres processes on one data directory.
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      DeploymentConfiguration: Match.objectLike({ MaximumPercent: 100, MinimumHealthyPercent: 0 }),
      ServiceRegistries: Match.anyValue(),
    });
    expect(mlflowContainer('dev').env).toMatchObject({
      DB_HOST: 'postgres.mlflow.internal',
      DB_PORT: '5432',
    });
  });

  it('uses RDS with deletion protection, Multi-AZ and a final snapshot in prod', () => {
    const { template } = synthStage('prod');
    template.resourceCountIs('AWS::EFS::FileSystem', 0);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      DeletionProtection: true,
      MultiAZ: true,
      StorageEncrypted: true,
      Port: '5433',
      PubliclyAccessible: false,
      DBInstanceIdentifier: 'mlops-prod-mlflow',
    });
    const [instance] = Object.values(template.findResources('AWS::RDS::DBInstance'));
    expect(instance?.DeletionPolicy).toBe('Snapshot');
    expect(mlflowContainer('prod').env.DB_HOST).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^MlflowRdsInstance/), 'Endpoint.Address'],
    });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2, LoadBalancers: Match.anyValue() });
  });

  it('keeps the database credentials in Secrets Manager', () => {
    synthStage('dev').template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', ExcludePunctuation: true }),
    });
    // The database master's and MLflow's database user's (test/cdk/db-secrets.test.ts), MLflow's
    // admin, pipelines, reader and Flask key (also the root of the webhook-secret encryption key), and
    // the webhook receiver's HMAC secret (lib/serving-sync.ts).
    synthStage('prod').template.resourceCountIs('AWS::SecretsManager::Secret', 7);
  });

  it('lets only the MLflow task reach Postgres and only MLflow clients reach MLflow', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const { template } = synthStage(stage);
      const ingress = Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')).map(
        (r) => r.Properties as Json,
      );
      const into = (group: RegExp) =>
        ingress
          .filter((r) => group.test(((r.GroupId as Json)['Fn::GetAtt'] as string[])[0] as string))
          .map((r) => ({
            port: r.FromPort,
            from: ((r.SourceSecurityGroupId as Json)['Fn::GetAtt'] as string[])[0],
          }));
      const database = stage === 'dev' ? /^MlflowPostgresSecurityGroup/ : /^MlflowRdsInstanceSecurityGroup/;
      const dbPort =
        stage === 'dev'
          ? 5432
          : { 'Fn::GetAtt': [expect.stringMatching(/^MlflowRdsInstance/), 'Endpoint.Port'] };
      expect(into(database)).toEqual([
        // prod: the password rotation functions too (test/cdk/db-secrets.test.ts).
        ...(stage === 'prod'
          ? [{ port: dbPort, from: expect.stringMatching(/^MlflowRdsRotationSecurityGroup/) }]
          : []),
        { port: dbPort, from: expect.stringMatching(/^MlflowTaskSecurityGroup/) },
      ]);
      if (stage === 'dev') {
        // No load balancer: the task admits the MLflow clients itself, and the tasks (`mlops mlflow
        // connect` forwards through one).
        expect(into(/^MlflowTaskSecurityGroup/)).toEqual([
          { port: 5000, from: expect.stringMatching(/^MlflowClientSecurityGroup/) },
          { port: 5000, from: expect.stringMatching(/^MlflowTaskSecurityGroup/) },
        ]);
      } else {
        expect(into(/^MlflowTaskSecurityGroup/)).toEqual([
          { port: 5000, from: expect.stringMatching(/^MlflowLoadBalancerSecurityGroup/) },
        ]);
        // The clients, and the tasks themselves: `mlops mlflow connect` forwards through one.
        expect(into(/^MlflowLoadBalancerSecurityGroup/)).toEqual([
          { port: 80, from: expect.stringMatching(/^MlflowClientSecurityGroup/) },
          { port: 80, from: expect.stringMatching(/^MlflowTaskSecurityGroup/) },
        ]);
      }
      // No rule admits an address range: every ingress names a source security group.
      expect(ingress.every((r) => r.SourceSecurityGroupId !== undefined && r.CidrIp === undefined)).toBe(
        true,
      );
      for (const group of Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroup'))) {
        expect(group.Properties.SecurityGroupIngress).toBeUndefined();
      }
    }
  });
});

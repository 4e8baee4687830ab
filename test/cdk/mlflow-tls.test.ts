import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { MlflowService } from '../../lib/mlflow-service';
import { PRIVATE_SUBNET_GROUP } from '../../lib/network';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab';

/** The MLflow service alone, with a certificate: HTTPS on 443 and an https:// tracking URI. */
function synthWithTls() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'MlflowTls', { env: { account: '123456789012', region: 'eu-west-1' } });
  // The subnet groups lib/network.ts makes: MLflow's load balancer and database sit in `private`.
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: PRIVATE_SUBNET_GROUP, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const mlflow = new MlflowService(stack, 'Mlflow', {
    vpc,
    artifactsBucket: new s3.Bucket(stack, 'Artifacts'),
    accessLogsBucket: new s3.Bucket(stack, 'AccessLogs'),
    database: 'ecs-postgres',
    retainData: false,
    logRetention: logs.RetentionDays.ONE_WEEK,
    imageDirectory: 'docker/mlflow',
    tls: { certificateArn: CERTIFICATE, domainName: 'mlflow.corp.example.com' },
  });
  return { mlflow, template: Template.fromStack(stack) };
}

describe('MlflowService with a certificate', () => {
  const { mlflow, template } = synthWithTls();

  it('listens with HTTPS on 443 with the certificate and a TLS 1.2+ policy, and no plain HTTP', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE }],
      SslPolicy: Match.stringLikeRegexp('TLS1[23]'),
    });
    const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener'));
    expect(listeners.map((l) => l.Properties.Port)).toEqual([443]);
  });

  it('hands out an https:// tracking URI on the DNS name, admits clients on 443 and allows the host', () => {
    expect(mlflow.trackingUri).toBe('https://mlflow.corp.example.com');
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, ToPort: 443 });
    const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).flatMap(
      (t) =>
        t.Properties.ContainerDefinitions as {
          Name: string;
          Environment: { Name: string; Value: unknown }[];
        }[],
    );
    const container = containers.find((c) => c.Name === 'mlflow');
    const allowed = container?.Environment.find((e) => e.Name === 'MLFLOW_SERVER_ALLOWED_HOSTS')?.Value;
    expect(JSON.stringify(allowed)).toContain('mlflow.corp.example.com');
    expect(template.toJSON().Outputs.MlflowLoadBalancerPort.Value).toBe('443');
  });
});

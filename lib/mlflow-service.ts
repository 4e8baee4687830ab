import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EcsPostgres } from './ecs-postgres';
import type { MlflowDatabase } from './mlflow-database';
import type { MlflowAccess, MlflowUserSecret } from './mlops-function';
import { PROJECT_ROOT } from './mlops-function';
import { acknowledgeRule, acknowledgeWildcards } from './nag-acknowledgements';
import { RdsPostgres } from './rds-postgres';

export interface MlflowServiceProps {
  readonly vpc: ec2.IVpc;
  /** MLflow's artifact store; only the MLflow task role can touch it. */
  readonly artifactsBucket: s3.IBucket;
  /** Receives the load balancer's access logs under `alb/mlflow/`. */
  readonly accessLogsBucket: s3.IBucket;
  /** `ecs-postgres`: Postgres as a Fargate task on EFS, found through Cloud Map. `rds`: RDS for PostgreSQL. */
  readonly database: 'ecs-postgres' | 'rds';
  /** Keep the database (deletion protection, snapshot or retained volume) on stack deletion. */
  readonly retainData: boolean;
  readonly logRetention: logs.RetentionDays;
  /** Fargate CPU units of an MLflow task. @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryMiB?: number;
  /** @default 1 */
  readonly desiredCount?: number;
  /** Standby instance in the second AZ; ignored unless `database` is `rds`. @default false */
  readonly rdsMultiAz?: boolean;
  /** Used to name the RDS instance. @default 'mlops' */
  readonly namePrefix?: string;
  /** Build context of the MLflow image. @default docker/mlflow */
  readonly imageDirectory?: string;
  /**
   * HTTPS on the load balancer (port 443, TLS 1.2+) with this certificate, and the tracking URI
   * `https://<domainName>`; the DNS name must resolve to the internal load balancer.
   * @default plain HTTP on port 80 to the load balancer's own DNS name
   */
  readonly tls?: { readonly certificateArn: string; readonly domainName: string };
}

const MLFLOW_PORT = 5000;

/** The MLflow users the stack creates (docker/mlflow/mlflow_users.py), by role. */
export const MLFLOW_USERS = { admin: 'admin', writer: 'pipelines', reader: 'reader' } as const;

/**
 * The MLflow tracking server and model registry: Fargate tasks running the image from
 * docker/mlflow behind an internal Application Load Balancer, Postgres as the backend store and
 * S3 as the artifact store (proxied by the server). Reachable only from the VPC, and there only
 * from `clientSecurityGroup` and whatever `allowFrom` admits.
 */
export class MlflowService extends Construct implements MlflowAccess {
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.Cluster;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly service: ecs.FargateService;
  readonly database: MlflowDatabase;
  /** Give this group to anything that should reach MLflow (the project's Lambdas, SageMaker jobs). */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  /**
   * `http://<internal ALB DNS name>`, or `https://<tls.domainName>` with a certificate. The load
   * balancer is internal and admits only MLflow clients; MLflow itself asks for basic auth.
   */
  readonly trackingUri: string;
  /** The basic-auth admin (`{"username","password"}`): for people adding users, never for code. */
  readonly adminSecret: secretsmanager.Secret;
  /** The pipelines' user: writes runs, model versions and aliases. */
  readonly writerCredentials: MlflowUserSecret;
  /** The read-only user: for functions that only read the registry (predict, status). */
  readonly readerCredentials: MlflowUserSecret;
  private readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  private readonly listenerPort: number;

  constructor(scope: Construct, id: string, props: MlflowServiceProps) {
    super(scope, id);
    const cpu = props.cpu ?? 512;
    const memoryMiB = props.memoryMiB ?? 1024;
    const desiredCount = props.desiredCount ?? 1;
    validateProps(cpu, memoryMiB, desiredCount);
    this.vpc = props.vpc;
    const removalPolicy = props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      defaultCloudMapNamespace: { name: 'mlflow.internal', vpc: props.vpc, useForServiceConnect: false },
    });
    const namespace = this.cluster.defaultCloudMapNamespace;
    if (!namespace) throw new Error('MlflowService: the cluster has no Cloud Map namespace');

    this.database =
      props.database === 'rds'
        ? new RdsPostgres(this, 'Rds', {
            vpc: props.vpc,
            instanceIdentifier: `${props.namePrefix ?? 'mlops'}-mlflow`,
            retainData: props.retainData,
            multiAz: props.rdsMultiAz ?? false,
            logRetention: props.logRetention,
          })
        : new EcsPostgres(this, 'Postgres', {
            cluster: this.cluster,
            namespace,
            logRetention: props.logRetention,
            retainData: props.retainData,
          });

    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: props.vpc,
      description: 'MLflow clients: members may call the MLflow load balancer',
      allowAllOutbound: true,
    });
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'MLflow internal load balancer: admits MLflow clients only',
      allowAllOutbound: false,
    });
    this.listenerPort = props.tls ? 443 : 80;
    this.allowFrom(this.clientSecurityGroup);

    // Basic-auth users: passwords generated by Secrets Manager, handed to the container as ECS
    // secrets and to the functions as a secret ARN they read at cold start.
    const userSecret = (id: string, username: string, description: string) =>
      new secretsmanager.Secret(this, id, {
        description,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username }),
          generateStringKey: 'password',
          excludePunctuation: true,
          passwordLength: 32,
        },
        removalPolicy,
      });
    this.adminSecret = userSecret(
      'AdminSecret',
      MLFLOW_USERS.admin,
      'MLflow basic-auth admin (people adding users)',
    );
    this.writerCredentials = {
      username: MLFLOW_USERS.writer,
      secret: userSecret(
        'PipelinesSecret',
        MLFLOW_USERS.writer,
        'MLflow user of the pipelines: runs, versions, aliases',
      ),
    };
    this.readerCredentials = {
      username: MLFLOW_USERS.reader,
      secret: userSecret('ReaderSecret', MLFLOW_USERS.reader, 'MLflow read-only user'),
    };
    const flaskSecretKey = new secretsmanager.Secret(this, 'FlaskSecretKey', {
      description: "MLflow auth app's Flask secret key (CSRF tokens), the same in every task",
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
      removalPolicy,
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup: this.loadBalancerSecurityGroup,
      dropInvalidHeaderFields: true,
      // Artifact uploads of large models go through the server's proxy.
      idleTimeout: Duration.minutes(5),
      deletionProtection: props.retainData,
    });
    this.loadBalancer.logAccessLogs(props.accessLogsBucket, 'alb/mlflow');
    this.trackingUri = props.tls
      ? `https://${props.tls.domainName}`
      : `http://${this.loadBalancer.loadBalancerDnsName}`;

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu,
      memoryLimitMiB: memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    // The artifact proxy reads, writes, lists and deletes (runs can be deleted) MLflow's objects.
    taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [props.artifactsBucket.arnForObjects('*')],
      }),
    );
    taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.artifactsBucket.bucketArn] }),
    );

    taskDefinition.addContainer('mlflow', {
      image: ecs.ContainerImage.fromAsset(props.imageDirectory ?? join(PROJECT_ROOT, 'docker/mlflow'), {
        platform: Platform.LINUX_AMD64,
      }),
      environment: {
        DB_HOST: this.database.host,
        DB_PORT: this.database.port,
        DB_NAME: this.database.databaseName,
        ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
        MLFLOW_PORT: String(MLFLOW_PORT),
        MLFLOW_WORKERS: '2',
        // MLflow 3 rejects Host headers it does not know (DNS-rebinding guard); clients use the ALB's name.
        MLFLOW_SERVER_ALLOWED_HOSTS: [
          this.loadBalancer.loadBalancerDnsName,
          `${this.loadBalancer.loadBalancerDnsName}:*`,
          'localhost',
          'localhost:*',
          '127.0.0.1:*',
          ...(props.tls ? [props.tls.domainName, `${props.tls.domainName}:*`] : []),
        ].join(','),
        MLFLOW_AUTH_ADMIN_USERNAME: MLFLOW_USERS.admin,
        MLFLOW_PIPELINES_USERNAME: MLFLOW_USERS.writer,
        MLFLOW_READER_USERNAME: MLFLOW_USERS.reader,
        MLFLOW_DISABLE_TELEMETRY: 'true',
        DO_NOT_TRACK: 'true',
      },
      secrets: {
        DB_USER: ecs.Secret.fromSecretsManager(this.database.secret, 'username'),
        DB_PASSWORD: ecs.Secret.fromSecretsManager(this.database.secret, 'password'),
        MLFLOW_AUTH_ADMIN_PASSWORD: ecs.Secret.fromSecretsManager(this.adminSecret, 'password'),
        MLFLOW_PIPELINES_PASSWORD: ecs.Secret.fromSecretsManager(this.writerCredentials.secret, 'password'),
        MLFLOW_READER_PASSWORD: ecs.Secret.fromSecretsManager(this.readerCredentials.secret, 'password'),
        MLFLOW_FLASK_SERVER_SECRET_KEY: ecs.Secret.fromSecretsManager(flaskSecretKey),
      },
      portMappings: [{ containerPort: MLFLOW_PORT, name: 'http' }],
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'mlflow',
        logGroup: new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy }),
      }),
    });

    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'MLflow server tasks: admit the load balancer only',
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount,
      minHealthyPercent: 100,
      securityGroups: [taskSecurityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      circuitBreaker: { enable: true, rollback: true },
      // The first start runs MLflow's database migrations.
      healthCheckGracePeriod: Duration.minutes(3),
      // ECS Exec: `mlops mlflow connect` forwards a local port through a task to the load balancer
      // (CDK adds the ssmmessages permissions to the task role).
      enableExecuteCommand: true,
    });
    this.database.allowFrom(taskSecurityGroup);
    // `mlops mlflow connect` forwards through a task to the load balancer.
    this.allowFrom(taskSecurityGroup);
    if (this.database instanceof EcsPostgres) this.service.node.addDependency(this.database.service);

    const listener = props.tls
      ? this.loadBalancer.addListener('Https', {
          port: 443,
          protocol: elbv2.ApplicationProtocol.HTTPS,
          certificates: [
            elbv2.ListenerCertificate.fromCertificateManager(
              acm.Certificate.fromCertificateArn(this, 'Certificate', props.tls.certificateArn),
            ),
          ],
          sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          open: false,
        })
      : this.loadBalancer.addListener('Http', {
          port: 80,
          protocol: elbv2.ApplicationProtocol.HTTP,
          open: false,
        });
    listener.addTargets('Mlflow', {
      port: MLFLOW_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service],
      healthCheck: { path: '/health', healthyHttpCodes: '200', interval: Duration.seconds(30) },
      deregistrationDelay: Duration.seconds(30),
    });

    // What `mlops mlflow connect` and `mlops mlflow user add --aws` read (bin/cli/mlflow-command.ts).
    const stack = Stack.of(this);
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(stack, id, { value, description });
    output('MlflowClusterName', this.cluster.clusterName, 'mlops mlflow connect: the ECS cluster');
    output('MlflowServiceName', this.service.serviceName, 'mlops mlflow connect: the ECS service');
    output(
      'MlflowLoadBalancerHost',
      this.loadBalancer.loadBalancerDnsName,
      'mlops mlflow connect: the host the session forwards to',
    );
    output('MlflowLoadBalancerPort', String(this.listenerPort), 'mlops mlflow connect: its port');
    output('MlflowAdminSecretArn', this.adminSecret.secretArn, 'MLflow admin password (JSON field password)');
    output('MlflowReaderSecretArn', this.readerCredentials.secret.secretArn, 'MLflow read-only password');

    acknowledgeRule(
      taskDefinition,
      'ECS2',
      'Plain environment variables carry only non-secret settings (host, port, bucket name, allowed hosts); the database credentials come from Secrets Manager.',
    );
    acknowledgeRule(
      this,
      'SMG4',
      "The MLflow users' passwords are injected into the tasks at start and read by the functions at cold start; rotation would need the server and every warm function to pick up the new one. Rotate by updating the secret and redeploying.",
    );
    acknowledgeWildcards(
      taskDefinition.taskRole,
      { resources: ['*'] },
      'ECS Exec (mlops mlflow connect): ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel support no resource-level permissions.',
    );
    acknowledgeWildcards(
      taskDefinition.taskRole,
      { resources: [props.artifactsBucket.arnForObjects('*')] },
      'The MLflow artifact proxy stores objects under run- and model-specific keys chosen at run time, anywhere in its own artifacts bucket.',
    );
    acknowledgeWildcards(
      taskDefinition.obtainExecutionRole(),
      { resources: ['*'] },
      'ecr:GetAuthorizationToken, used to pull the MLflow image, has no resource-level permissions.',
    );
  }

  /** Admits a peer (a security group, or anything connectable) to the MLflow load balancer's listener. */
  allowFrom(peer: ec2.IConnectable | ec2.IPeer): void {
    const source = 'connections' in peer ? peer.connections.securityGroups : [peer];
    for (const group of source) {
      this.loadBalancerSecurityGroup.addIngressRule(
        group,
        ec2.Port.tcp(this.listenerPort),
        this.listenerPort === 443 ? 'HTTPS from an MLflow client' : 'HTTP from an MLflow client',
      );
    }
  }
}

function validateProps(cpu: number, memoryMiB: number, desiredCount: number): void {
  const fargateCpu = [256, 512, 1024, 2048, 4096, 8192, 16384];
  if (!fargateCpu.includes(cpu)) {
    throw new Error(
      `MlflowServiceProps.cpu must be a Fargate CPU size (${fargateCpu.join(', ')}); got ${cpu}`,
    );
  }
  if (memoryMiB < 2 * cpu || memoryMiB > 8 * cpu) {
    throw new Error(
      `MlflowServiceProps.memoryMiB must be 2-8 times cpu for Fargate (cpu ${cpu}: ${2 * cpu}-${8 * cpu}); got ${memoryMiB}`,
    );
  }
  if (!Number.isInteger(desiredCount) || desiredCount < 1) {
    throw new Error(`MlflowServiceProps.desiredCount must be a positive integer (got ${desiredCount})`);
  }
}

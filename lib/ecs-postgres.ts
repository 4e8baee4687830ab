import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { MlflowDatabase } from './mlflow-database';
import { acknowledgeRule } from './nag-acknowledgements';
import { PRIVATE_SUBNET_GROUP } from './network';

/**
 * The Postgres image, by exact tag (a floating `16` would change the server under a running
 * database at any task restart). ECR Public's mirror of the official multi-arch image.
 */
export const POSTGRES_IMAGE = 'public.ecr.aws/docker/library/postgres:16.10';

export interface EcsPostgresProps {
  readonly cluster: ecs.ICluster;
  /** Registers the task as `<serviceName>.<namespace>` so MLflow finds it by name. */
  readonly namespace: { readonly namespaceName: string };
  readonly logRetention: logs.RetentionDays;
  /** Keep the EFS data and the credentials on stack deletion. */
  readonly retainData: boolean;
  /** @default 'postgres' */
  readonly serviceName?: string;
  /** @default 'mlflow' */
  readonly databaseName?: string;
  /** Postgres image; ECR Public's mirror of the official one avoids Docker Hub pull limits. @default POSTGRES_IMAGE */
  readonly image?: string;
  /** MLflow's metadata store is small and quiet: a quarter vCPU is plenty. @default 256 */
  readonly cpu?: number;
  /** @default 512 */
  readonly memoryMiB?: number;
  /** @default 'x86_64' */
  readonly architecture?: 'x86_64' | 'arm64';
  /** Fargate Spot: an interruption restarts Postgres on the same EFS data (dev). @default false */
  readonly spot?: boolean;
  /** Where the task runs. @default the `private` subnet group */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** A public IP for the task (public subnets, no NAT gateway). @default false */
  readonly assignPublicIp?: boolean;
}

/** The postgres image's `postgres` user; the EFS access point presents the data directory as owned by it. */
const POSTGRES_UID = '999';
const PORT = 5432;

/**
 * MLflow's backend store as one Fargate task running the official Postgres image on an encrypted
 * EFS volume: a few dollars a month instead of an RDS instance. One task at most, ever: two
 * postgres processes on one data directory would corrupt it, so deployments stop the old task
 * before starting the new one (minimum healthy 0 %, maximum 100 %).
 */
export class EcsPostgres extends Construct implements MlflowDatabase {
  readonly host: string;
  readonly port = String(PORT);
  readonly databaseName: string;
  readonly secret: secretsmanager.Secret;
  /** The official image's Postgres has no certificate: MLflow connects in plain text inside the VPC. */
  readonly tls = 'none' as const;
  readonly service: ecs.FargateService;
  readonly fileSystem: efs.FileSystem;
  private readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: EcsPostgresProps) {
    super(scope, id);
    const serviceName = props.serviceName ?? 'postgres';
    this.databaseName = props.databaseName ?? 'mlflow';
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(this.databaseName)) {
      throw new Error(
        `EcsPostgresProps.databaseName must be a lowercase Postgres identifier (got '${this.databaseName}')`,
      );
    }
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(serviceName)) {
      throw new Error(`EcsPostgresProps.serviceName must be a DNS label (got '${serviceName}')`);
    }
    const removalPolicy = props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const vpc = props.cluster.vpc;

    this.secret = new secretsmanager.Secret(this, 'Credentials', {
      description: 'MLflow backend store (ECS-hosted Postgres) credentials',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'mlflow' }),
        generateStringKey: 'password',
        // The password goes into a connection URI; punctuation would need escaping everywhere it is used.
        excludePunctuation: true,
        passwordLength: 40,
      },
      removalPolicy,
    });
    acknowledgeRule(
      this.secret,
      'SMG4',
      'Not rotated (dev, self-hosted): rotation needs host and engine in this secret, and adding them regenerates the password the data directory was initialised with; the task has no TLS either, so a rotation function would send the master password in plain text. Use mlflow.database=rds or aurora-serverless for rotated, TLS-verified credentials.',
    );

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'MLflow Postgres task: admits only the MLflow server',
      allowAllOutbound: true,
    });

    const fsSecurityGroup = new ec2.SecurityGroup(this, 'FileSystemSecurityGroup', {
      vpc,
      description: 'MLflow Postgres data volume: admits only the Postgres task',
      allowAllOutbound: false,
    });
    this.fileSystem = new efs.FileSystem(this, 'Data', {
      vpc,
      vpcSubnets: { subnetGroupName: PRIVATE_SUBNET_GROUP },
      securityGroup: fsSecurityGroup,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      enableAutomaticBackups: true,
      removalPolicy,
    });
    this.fileSystem.connections.allowDefaultPortFrom(this.securityGroup, 'NFS from the Postgres task');
    const accessPoint = this.fileSystem.addAccessPoint('PgData', {
      path: '/pgdata',
      posixUser: { uid: POSTGRES_UID, gid: POSTGRES_UID },
      createAcl: { ownerUid: POSTGRES_UID, ownerGid: POSTGRES_UID, permissions: '700' },
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryMiB ?? 512,
      runtimePlatform: {
        cpuArchitecture:
          props.architecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    taskDefinition.addVolume({
      name: 'pgdata',
      efsVolumeConfiguration: {
        fileSystemId: this.fileSystem.fileSystemId,
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: accessPoint.accessPointId, iam: 'ENABLED' },
      },
    });
    this.fileSystem.grant(
      taskDefinition.taskRole,
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
    );

    const container = taskDefinition.addContainer('postgres', {
      image: ecs.ContainerImage.fromRegistry(props.image ?? POSTGRES_IMAGE),
      user: `${POSTGRES_UID}:${POSTGRES_UID}`,
      environment: {
        POSTGRES_DB: this.databaseName,
        // A subdirectory of the mount, as the image's documentation advises for mounted volumes.
        PGDATA: '/var/lib/postgresql/data/pgdata',
      },
      secrets: {
        POSTGRES_USER: ecs.Secret.fromSecretsManager(this.secret, 'username'),
        POSTGRES_PASSWORD: ecs.Secret.fromSecretsManager(this.secret, 'password'),
      },
      portMappings: [{ containerPort: PORT, name: 'postgres' }],
      healthCheck: {
        command: ['CMD-SHELL', `pg_isready -U mlflow -d ${this.databaseName} -h 127.0.0.1`],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 4,
        startPeriod: Duration.seconds(60),
      },
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'postgres',
        logGroup: new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy }),
      }),
    });
    container.addMountPoints({
      sourceVolume: 'pgdata',
      containerPath: '/var/lib/postgresql/data',
      readOnly: false,
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      securityGroups: [this.securityGroup],
      vpcSubnets: props.vpcSubnets ?? { subnetGroupName: PRIVATE_SUBNET_GROUP },
      assignPublicIp: props.assignPublicIp ?? false,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      ...(props.spot
        ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }
        : {}),
      cloudMapOptions: { name: serviceName, dnsTtl: Duration.seconds(10) },
      circuitBreaker: { enable: true, rollback: true },
    });
    this.host = `${serviceName}.${props.namespace.namespaceName}`;

    acknowledgeRule(
      taskDefinition,
      'ECS2',
      'Only non-secret settings (database name, data directory) are plain environment variables; credentials come from Secrets Manager.',
    );
  }

  allowFrom(securityGroup: ec2.ISecurityGroup): void {
    this.securityGroup.addIngressRule(securityGroup, ec2.Port.tcp(PORT), 'Postgres from the MLflow server');
  }
}

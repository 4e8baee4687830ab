import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sfnTasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, type IConstruct } from 'constructs';
import { AuroraServerless } from './aurora-serverless';
import { DEFAULT_MLFLOW_VERSION, MLFLOW_VERSION_PATTERN, type MlflowDatabaseKind } from './config';
import { EcsPostgres } from './ecs-postgres';
import { type MlflowDatabase, RDS_CA_BUNDLE_PATH } from './mlflow-database';
import { MlflowDatabaseUpgrade } from './mlflow-upgrade';
import type { MlflowAccess, MlflowUserSecret } from './mlops-function';
import { PROJECT_ROOT } from './mlops-function';
import { acknowledgeRule, acknowledgeWildcards } from './nag-acknowledgements';
import { PRIVATE_SUBNET_GROUP } from './network';
import type { MlflowTier } from './observability';
import { RdsPostgres } from './rds-postgres';

export interface MlflowServiceProps {
  readonly vpc: ec2.IVpc;
  /** MLflow's artifact store; only the MLflow task role can touch it. */
  readonly artifactsBucket: s3.IBucket;
  /** Receives the load balancer's access logs under `alb/mlflow/`. */
  readonly accessLogsBucket: s3.IBucket;
  /**
   * `ecs-postgres`: Postgres as a Fargate task on EFS, found through Cloud Map. `rds`: RDS for
   * PostgreSQL. `aurora-serverless`: Aurora Serverless v2, which can pause at 0 ACU.
   */
  readonly database: MlflowDatabaseKind;
  /** Keep the database (deletion protection, snapshot or retained volume) on stack deletion. */
  readonly retainData: boolean;
  readonly logRetention: logs.RetentionDays;
  /** Fargate CPU units of an MLflow task. @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryMiB?: number;
  /** @default 1 */
  readonly desiredCount?: number;
  /** Standby instance (RDS) or reader (Aurora) in the second AZ; ignored for `ecs-postgres`. @default false */
  readonly rdsMultiAz?: boolean;
  /** RDS instance class without `db.` (`rds` only). @default t4g.micro */
  readonly rdsInstanceClass?: string;
  /** Aurora Serverless v2 ACUs (`aurora-serverless` only). @default 0 and 2 */
  readonly auroraMinCapacity?: number;
  readonly auroraMaxCapacity?: number;
  /** CPU architecture of the MLflow and ECS Postgres tasks (the image is built for it). @default 'x86_64' */
  readonly architecture?: 'x86_64' | 'arm64';
  /** Fargate Spot for the MLflow and ECS Postgres tasks. @default false */
  readonly spot?: boolean;
  /**
   * An internal load balancer in front of the tasks. Without one (one task only) clients reach the
   * task as `mlflow.<namespace>:5000` through Cloud Map. @default true
   */
  readonly loadBalancer?: boolean;
  /** Container Insights on the cluster. @default true */
  readonly containerInsights?: boolean;
  /**
   * Run the tasks in the public subnets with a public IP (the VPC has no NAT gateway); their
   * security groups still admit only their clients. @default false (private subnets with NAT)
   */
  readonly tasksInPublicSubnets?: boolean;
  /** Used to name the RDS instance. @default 'mlops' */
  readonly namePrefix?: string;
  /** Build context of the MLflow image. @default docker/mlflow */
  readonly imageDirectory?: string;
  /**
   * The MLflow version the image is built for (build argument MLFLOW_VERSION); a deployment that
   * changes it runs `mlflow db upgrade` before the service's new tasks start (lib/mlflow-upgrade.ts).
   * @default DEFAULT_MLFLOW_VERSION
   */
  readonly mlflowVersion?: string;
  /**
   * HTTPS on the load balancer (port 443, TLS 1.2+) with this certificate, and the tracking URI
   * `https://<domainName>`; the DNS name must resolve to the internal load balancer.
   * @default plain HTTP on port 80 to the load balancer's own DNS name
   */
  readonly tls?: { readonly certificateArn: string; readonly domainName: string };
  /**
   * Time between rotations of the database passwords (`rds` and `aurora-serverless`; the ECS
   * Postgres is not rotated). @default Duration.days(30)
   */
  readonly databaseRotation?: Duration;
}

const MLFLOW_PORT = 5000;
const MLFLOW_CONTAINER = 'mlflow';
const MLFLOW_LOG_STREAM_PREFIX = 'mlflow';
/** The Cloud Map name of the MLflow service when there is no load balancer. */
const MLFLOW_SERVICE_NAME = 'mlflow';

/**
 * MLflow server workers (uvicorn processes) a task's memory holds: the process tree must stay
 * under 70% of the task's memory. test/integration/mlflow-memory.test.ts runs the entrypoint's
 * command line under a logging and registry workload; measured 2026-12-03 with MLflow 3.17.2 and
 * one worker: 551 MiB peak for the whole tree. The split below (server ~300 MiB, ~260 MiB per
 * worker) is an estimate from that one measurement, so a 1 GiB task runs one worker.
 */
export const MLFLOW_BASE_MIB = 300;
export const MLFLOW_WORKER_MIB = 260;
export function mlflowWorkers(memoryMiB: number, cpu: number): number {
  const byMemory = Math.floor((0.7 * memoryMiB - MLFLOW_BASE_MIB) / MLFLOW_WORKER_MIB);
  const byCpu = Math.max(1, Math.round((2 * cpu) / 1024));
  return Math.max(1, Math.min(byMemory, byCpu));
}

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
  /** Absent when `loadBalancer` is false: clients reach the task through Cloud Map. */
  readonly loadBalancer?: elbv2.ApplicationLoadBalancer;
  readonly service: ecs.FargateService;
  /** The load balancer's target group (absent without a load balancer). */
  readonly targetGroup?: elbv2.ApplicationTargetGroup;
  readonly database: MlflowDatabase;
  /** Runs `mlflow db upgrade` before the service's new tasks start; the service depends on it. */
  readonly databaseUpgrade: MlflowDatabaseUpgrade;
  /** Give this group to anything that should reach MLflow (the project's Lambdas, SageMaker jobs). */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  /**
   * `http://<internal ALB DNS name>`, `https://<tls.domainName>` with a certificate, or
   * `http://mlflow.mlflow.internal:5000` without a load balancer. Internal either way, admitting only
   * MLflow clients; MLflow itself asks for basic auth.
   */
  readonly trackingUri: string;
  readonly desiredCount: number;
  readonly containerInsights: boolean;
  /** The basic-auth admin (`{"username","password"}`): for people adding users, never for code. */
  readonly adminSecret: secretsmanager.Secret;
  /** The pipelines' user: writes runs, model versions and aliases. */
  readonly writerCredentials: MlflowUserSecret;
  /** The read-only user: for functions that only read the registry (the serving manifests' writers). */
  readonly readerCredentials: MlflowUserSecret;
  /**
   * The database password rotation functions' group (RDS and Aurora): admit it to Secrets
   * Manager's endpoint. Absent for the ECS Postgres.
   */
  readonly databaseRotationSecurityGroup?: ec2.SecurityGroup;
  /** `adminSecret` as a function's MLflow user: only the webhook registration uses it. */
  readonly adminCredentials: MlflowUserSecret;
  /** What MLflow clients connect to: the load balancer's group, or the task's without one. */
  private readonly frontSecurityGroup: ec2.SecurityGroup;
  private readonly frontPort: number;

  constructor(scope: Construct, id: string, props: MlflowServiceProps) {
    super(scope, id);
    const cpu = props.cpu ?? 512;
    const memoryMiB = props.memoryMiB ?? 1024;
    const desiredCount = props.desiredCount ?? 1;
    // A certificate needs the load balancer: TLS ends there.
    const withLoadBalancer = (props.loadBalancer ?? true) || props.tls !== undefined;
    this.desiredCount = desiredCount;
    this.containerInsights = props.containerInsights ?? true;
    validateProps(cpu, memoryMiB, desiredCount, withLoadBalancer);
    if (props.mlflowVersion !== undefined && !MLFLOW_VERSION_PATTERN.test(props.mlflowVersion)) {
      throw new Error(
        `MlflowServiceProps.mlflowVersion must be an exact MLflow release like 3.17.2 (got '${props.mlflowVersion}')`,
      );
    }
    const arm = props.architecture === 'arm64';
    const spot = props.spot ?? false;
    const publicTasks = props.tasksInPublicSubnets ?? false;
    const taskSubnets: ec2.SubnetSelection = publicTasks
      ? { subnetType: ec2.SubnetType.PUBLIC }
      : { subnetGroupName: PRIVATE_SUBNET_GROUP };
    this.vpc = props.vpc;
    const removalPolicy = props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2:
        (props.containerInsights ?? true) ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
      enableFargateCapacityProviders: spot,
      defaultCloudMapNamespace: { name: 'mlflow.internal', vpc: props.vpc, useForServiceConnect: false },
    });
    if (!(props.containerInsights ?? true)) {
      acknowledgeRule(
        this.cluster,
        'ECS4',
        'Container Insights is off by configuration (mlflow.containerInsights=false) to save its custom-metric cost outside prod; the alarms use the free AWS/ECS metrics.',
      );
    }
    const namespace = this.cluster.defaultCloudMapNamespace;
    if (!namespace) throw new Error('MlflowService: the cluster has no Cloud Map namespace');

    const identifier = `${props.namePrefix ?? 'mlops'}-mlflow`;
    const rotation = {
      every: props.databaseRotation ?? Duration.days(30),
      // With NAT egress, or through the Secrets Manager endpoint (lib/network.ts) without.
      vpcSubnets: { subnetGroupName: PRIVATE_SUBNET_GROUP },
    };
    this.database =
      props.database === 'rds'
        ? new RdsPostgres(this, 'Rds', {
            vpc: props.vpc,
            instanceIdentifier: identifier,
            retainData: props.retainData,
            multiAz: props.rdsMultiAz ?? false,
            logRetention: props.logRetention,
            instanceType: new ec2.InstanceType(props.rdsInstanceClass ?? 't4g.micro'),
            rotation,
          })
        : props.database === 'aurora-serverless'
          ? new AuroraServerless(this, 'Aurora', {
              vpc: props.vpc,
              clusterIdentifier: identifier,
              retainData: props.retainData,
              multiAz: props.rdsMultiAz ?? false,
              logRetention: props.logRetention,
              minCapacity: props.auroraMinCapacity ?? 0,
              maxCapacity: props.auroraMaxCapacity ?? 2,
              rotation,
            })
          : new EcsPostgres(this, 'Postgres', {
              cluster: this.cluster,
              namespace,
              logRetention: props.logRetention,
              retainData: props.retainData,
              architecture: props.architecture,
              spot,
              vpcSubnets: taskSubnets,
              assignPublicIp: publicTasks,
            });

    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: props.vpc,
      description: 'MLflow clients: members may call the MLflow load balancer',
      allowAllOutbound: true,
    });
    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: withLoadBalancer
        ? 'MLflow server tasks: admit the load balancer only'
        : 'MLflow server tasks: admit MLflow clients only',
      allowAllOutbound: true,
    });
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
    this.adminCredentials = { username: MLFLOW_USERS.admin, secret: this.adminSecret };
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
    // Also the root of the key MLflow encrypts stored webhook secrets with (docker/mlflow/entrypoint.sh
    // derives it, domain-separated): the same in every worker and task, and across restarts.
    const flaskSecretKey = new secretsmanager.Secret(this, 'FlaskSecretKey', {
      description: "MLflow auth app's Flask secret key (CSRF tokens), the same in every task",
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
      removalPolicy,
    });

    if (withLoadBalancer) {
      this.frontSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
        vpc: props.vpc,
        description: 'MLflow internal load balancer: admits MLflow clients only',
        allowAllOutbound: false,
      });
      this.frontPort = props.tls ? 443 : 80;
      this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
        vpc: props.vpc,
        internetFacing: false,
        vpcSubnets: { subnetGroupName: PRIVATE_SUBNET_GROUP },
        securityGroup: this.frontSecurityGroup,
        dropInvalidHeaderFields: true,
        // Artifact uploads of large models go through the server's proxy.
        idleTimeout: Duration.minutes(5),
        deletionProtection: props.retainData,
      });
      this.loadBalancer.logAccessLogs(props.accessLogsBucket, 'alb/mlflow');
      this.trackingUri = props.tls
        ? `https://${props.tls.domainName}`
        : `http://${this.loadBalancer.loadBalancerDnsName}`;
    } else {
      this.frontSecurityGroup = taskSecurityGroup;
      this.frontPort = MLFLOW_PORT;
      this.trackingUri = `http://${MLFLOW_SERVICE_NAME}.${namespace.namespaceName}:${MLFLOW_PORT}`;
    }
    this.allowFrom(this.clientSecurityGroup);
    const hostName =
      this.loadBalancer?.loadBalancerDnsName ?? `${MLFLOW_SERVICE_NAME}.${namespace.namespaceName}`;

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu,
      memoryLimitMiB: memoryMiB,
      runtimePlatform: {
        cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
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

    const mlflowVersion = props.mlflowVersion ?? DEFAULT_MLFLOW_VERSION;
    const image = ecs.ContainerImage.fromAsset(props.imageDirectory ?? join(PROJECT_ROOT, 'docker/mlflow'), {
      // The official MLflow image is multi-arch (linux/amd64 and linux/arm64).
      platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      buildArgs: { MLFLOW_VERSION: mlflowVersion },
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy });
    const logDriver = ecs.LogDrivers.awsLogs({ streamPrefix: MLFLOW_LOG_STREAM_PREFIX, logGroup });
    const databaseConnection = {
      DB_HOST: this.database.host,
      DB_PORT: this.database.port,
      DB_NAME: this.database.databaseName,
      ...databaseConnectionEnvironment(this.database),
    };
    const mlflowContainer = taskDefinition.addContainer(MLFLOW_CONTAINER, {
      image,
      environment: {
        ...databaseConnection,
        ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
        MLFLOW_PORT: String(MLFLOW_PORT),
        MLFLOW_WORKERS: String(mlflowWorkers(memoryMiB, cpu)),
        ...sqlAlchemyPool(props.database),
        // MLflow 3 rejects Host headers it does not know (DNS-rebinding guard); clients use the ALB's name.
        MLFLOW_SERVER_ALLOWED_HOSTS: [
          hostName,
          `${hostName}:*`,
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
      ...(withLoadBalancer
        ? {}
        : {
            // Without a load balancer's health check, ECS replaces a task whose /health fails.
            healthCheck: {
              command: [
                'CMD-SHELL',
                `python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${MLFLOW_PORT}/health', timeout=4)"`,
              ],
              interval: Duration.seconds(30),
              timeout: Duration.seconds(5),
              retries: 3,
              startPeriod: Duration.minutes(3),
            },
          }),
      logging: logDriver,
    });
    const managed = this.database.managed;
    if (managed) {
      // Before the server: creates MLflow's role with the master credentials if it is missing and
      // hands it MLflow's tables (docker/mlflow/db_roles.py). Its own container, so the master
      // password never reaches the server's environment.
      const roles = taskDefinition.addContainer('db-roles', {
        image,
        essential: false,
        entryPoint: ['python', '/usr/local/lib/mlflow/db_roles.py'],
        environment: databaseConnection,
        secrets: {
          DB_MASTER_USER: ecs.Secret.fromSecretsManager(managed.masterSecret, 'username'),
          DB_MASTER_PASSWORD: ecs.Secret.fromSecretsManager(managed.masterSecret, 'password'),
          DB_USER: ecs.Secret.fromSecretsManager(this.database.secret, 'username'),
          DB_PASSWORD: ecs.Secret.fromSecretsManager(this.database.secret, 'password'),
        },
        logging: logDriver,
      });
      mlflowContainer.addContainerDependencies({
        container: roles,
        condition: ecs.ContainerDependencyCondition.SUCCESS,
      });
    }

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount,
      minHealthyPercent: 100,
      securityGroups: [taskSecurityGroup],
      vpcSubnets: taskSubnets,
      assignPublicIp: publicTasks,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      circuitBreaker: { enable: true, rollback: true },
      ...(spot ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] } : {}),
      ...(withLoadBalancer
        ? // The first start runs MLflow's database migrations.
          { healthCheckGracePeriod: Duration.minutes(3) }
        : { cloudMapOptions: { name: MLFLOW_SERVICE_NAME, dnsTtl: Duration.seconds(10) } }),
      // ECS Exec: `mlops mlflow connect` forwards a local port through a task to MLflow
      // (CDK adds the ssmmessages permissions to the task role).
      enableExecuteCommand: true,
    });
    this.database.allowFrom(taskSecurityGroup);
    // `mlops mlflow connect` forwards through a task to MLflow's front (the load balancer, or the task).
    this.allowFrom(taskSecurityGroup);
    if (this.database instanceof EcsPostgres) this.service.node.addDependency(this.database.service);
    if (managed) {
      this.databaseRotationSecurityGroup = managed.rotationSecurityGroup;
      const redeploy = this.redeployOnRotation(
        this.database.secret,
        rotation.every,
        props.logRetention,
        removalPolicy,
      );
      // The first rotation runs when its schedule is created: MLflow's role must exist by then, and
      // the rule that redeploys MLflow must be listening.
      for (const schedule of managed.rotations) schedule.node.addDependency(this.service, redeploy);
    }

    // `mlflow db upgrade` with the new image before the service's new tasks start: the one-off task
    // runs where the service's tasks do and reaches the database as they do.
    this.databaseUpgrade = new MlflowDatabaseUpgrade(this, 'DatabaseUpgrade', {
      cluster: this.cluster,
      taskDefinition,
      containerName: mlflowContainer.containerName,
      mlflowVersion,
      subnets: taskSubnets,
      securityGroups: [taskSecurityGroup],
      assignPublicIp: publicTasks,
      logGroup,
      logStreamPrefix: MLFLOW_LOG_STREAM_PREFIX,
      logRetention: props.logRetention,
    });
    // The database, its ingress rules (and the ECS Postgres service) exist before the upgrade runs.
    // Not on the password rotations: they wait for the service, which waits for the upgrade.
    if (this.database instanceof Construct)
      dependOnAllBut(this.databaseUpgrade, this.database, managed?.rotations ?? []);
    this.service.node.addDependency(this.databaseUpgrade);

    if (this.loadBalancer) {
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
      this.targetGroup = listener.addTargets('Mlflow', {
        port: MLFLOW_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targets: [this.service],
        healthCheck: { path: '/health', healthyHttpCodes: '200', interval: Duration.seconds(30) },
        deregistrationDelay: Duration.seconds(30),
      });
    }

    // What `mlops mlflow connect` and `mlops mlflow user add --aws` read (bin/cli/mlflow-command.ts).
    const stack = Stack.of(this);
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(stack, id, { value, description });
    output('MlflowClusterName', this.cluster.clusterName, 'mlops mlflow connect: the ECS cluster');
    output('MlflowServiceName', this.service.serviceName, 'mlops mlflow connect: the ECS service');
    output('MlflowLoadBalancerHost', hostName, 'mlops mlflow connect: the host the session forwards to');
    output('MlflowLoadBalancerPort', String(this.frontPort), 'mlops mlflow connect: its port');
    output('MlflowAdminSecretArn', this.adminSecret.secretArn, 'MLflow admin password (JSON field password)');
    output('MlflowReaderSecretArn', this.readerCredentials.secret.secretArn, 'MLflow read-only password');

    acknowledgeRule(
      taskDefinition,
      'ECS2',
      'Plain environment variables carry only non-secret settings (host, port, bucket name, allowed hosts); the database credentials come from Secrets Manager.',
    );
    for (const secret of [
      this.adminSecret,
      this.writerCredentials.secret,
      this.readerCredentials.secret,
      flaskSecretKey,
    ]) {
      acknowledgeRule(
        secret,
        'SMG4',
        "The MLflow users' passwords are injected into the tasks at start and read by the functions at cold start; rotation would need the server and every warm function to pick up the new one. Rotate by updating the secret and redeploying.",
      );
    }
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

  /**
   * How MLflow picks up a rotated password: ECS hands secrets to a container only when it starts,
   * so a rotation of MLflow's database user forces a new deployment of the service. Rolling
   * (minimum healthy 100 %), so no downtime; and the alternating-users rotation leaves the previous
   * user's password valid for a whole period, so the old tasks keep working until they are replaced
   * and a deployment that fails (the circuit breaker rolls it back) has a period to be retried. The
   * alternative, an entrypoint reading the secret itself, would still need a restart of MLflow's
   * workers to reconnect with the new password; a redeployment is that restart, done by ECS.
   * The event is Secrets Manager's RotationSucceeded, which CloudTrail delivers to EventBridge
   * (detail-type `AWS Service Event via CloudTrail`; no trail needed); a Standard state machine
   * calls ecs:UpdateService, on this one service only.
   *
   * EventBridge delivery is best effort, and a missed event would leave the tasks on a password
   * the next rotation changes. So the same redeployment also runs every half rotation period:
   * whatever happens to the events, every period between two rotations holds one redeployment,
   * and the tasks never outlive the password they started with.
   */
  private redeployOnRotation(
    secret: secretsmanager.ISecret,
    rotationPeriod: Duration,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): events.Rule {
    const forceNewDeployment = new sfnTasks.CallAwsService(this, 'ForceNewDeployment', {
      service: 'ecs',
      action: 'updateService',
      parameters: {
        Cluster: this.cluster.clusterArn,
        Service: this.service.serviceName,
        ForceNewDeployment: true,
      },
      iamAction: 'ecs:UpdateService',
      iamResources: [this.service.serviceArn],
      taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
    });
    forceNewDeployment.addRetry({
      errors: ['States.ALL'],
      maxAttempts: 3,
      interval: Duration.seconds(10),
      backoffRate: 2,
    });
    const logGroup = new logs.LogGroup(this, 'RedeployLogs', { retention: logRetention, removalPolicy });
    const stateMachine = new sfn.StateMachine(this, 'RedeployOnRotation', {
      definitionBody: sfn.DefinitionBody.fromChainable(forceNewDeployment),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.minutes(5),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const rule = new events.Rule(this, 'DatabaseRotationSucceeded', {
      description: "Redeploys MLflow when its database user's password has rotated",
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationSucceeded'],
          additionalEventData: { SecretId: [secret.secretArn] },
        },
      },
      targets: [new eventsTargets.SfnStateMachine(stateMachine)],
    });
    new events.Rule(this, 'DatabaseRotationBackstop', {
      description:
        'Redeploys MLflow every half database rotation period, in case a rotation event was missed',
      schedule: events.Schedule.rate(Duration.hours(rotationPeriod.toHours() / 2)),
      targets: [new eventsTargets.SfnStateMachine(stateMachine)],
    });
    acknowledgeWildcards(
      stateMachine.role,
      { resources: ['*'] },
      'CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray (PutTraceSegments) support no resource-level permissions.',
    );
    return rule;
  }

  /** What the alarms watch: the load balancer, the services and their desired counts, the database. */
  alarmTier(): MlflowTier {
    const database = this.database;
    return {
      loadBalancer: this.loadBalancer,
      targetGroup: this.targetGroup,
      services: {
        MlflowServer: { service: this.service, desiredCount: this.desiredCount },
        ...(database instanceof EcsPostgres
          ? { MlflowPostgres: { service: database.service, desiredCount: 1 } }
          : {}),
      },
      containerInsights: this.containerInsights,
      database:
        database instanceof RdsPostgres
          ? { kind: 'rds', instance: database.instance, allocatedStorageGiB: database.allocatedStorageGiB }
          : database instanceof AuroraServerless
            ? { kind: 'aurora', cluster: database.cluster }
            : undefined,
    };
  }

  /** Admits a peer (a security group, or anything connectable) to MLflow: the load balancer's listener, else the task's port. */
  allowFrom(peer: ec2.IConnectable | ec2.IPeer): void {
    const source = 'connections' in peer ? peer.connections.securityGroups : [peer];
    for (const group of source) {
      this.frontSecurityGroup.addIngressRule(
        group,
        ec2.Port.tcp(this.frontPort),
        this.frontPort === 443 ? 'HTTPS from an MLflow client' : 'HTTP from an MLflow client',
      );
    }
  }
}

/**
 * How the MLflow task connects to its database beyond host, port and name, as the entrypoint reads
 * it: RDS and Aurora with TLS verified against RDS's CA bundle (certificate and host name) and the
 * role MLflow's sessions act as; the ECS Postgres in plain text (it has no certificate).
 */
export function databaseConnectionEnvironment(
  database: Pick<MlflowDatabase, 'tls' | 'managed'>,
): Record<string, string> {
  return {
    ...(database.tls === 'verify-full'
      ? { DB_SSLMODE: 'verify-full', DB_SSLROOTCERT: RDS_CA_BUNDLE_PATH }
      : {}),
    ...(database.managed ? { DB_ROLE: database.managed.role } : {}),
  };
}

/**
 * SQLAlchemy pool of the MLflow server, per worker. Aurora Serverless v2 pauses only when no
 * connection is open, so there every request opens and closes its own (NullPool); elsewhere a
 * small pool, recycled every 30 minutes (MLflow always sets pool_pre_ping).
 */
export function sqlAlchemyPool(database: MlflowDatabaseKind): Record<string, string> {
  return database === 'aurora-serverless'
    ? { MLFLOW_SQLALCHEMYSTORE_POOLCLASS: 'NullPool' }
    : {
        MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: '2',
        MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: '3',
        MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE: '1800',
      };
}

function validateProps(cpu: number, memoryMiB: number, desiredCount: number, loadBalancer: boolean): void {
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
  if (!loadBalancer && desiredCount !== 1) {
    throw new Error(
      `MlflowServiceProps.desiredCount must be 1 without a load balancer (got ${desiredCount}); set loadBalancer: true`,
    );
  }
}

/**
 * Makes `dependent` depend on every construct under `scope` except the `excluded` ones (and what
 * is under them): `node.addDependency(scope)` would take all of it.
 */
function dependOnAllBut(dependent: Construct, scope: IConstruct, excluded: readonly IConstruct[]): void {
  const holdsExcluded = (node: IConstruct) =>
    excluded.some((item) => item === node || item.node.scopes.includes(node));
  for (const child of scope.node.children) {
    if (excluded.includes(child)) continue;
    if (holdsExcluded(child)) dependOnAllBut(dependent, child, excluded);
    else dependent.node.addDependency(child);
  }
}

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  type DatabaseRotationProps,
  type ManagedDatabaseSecrets,
  MLFLOW_DB_ROLE,
  type MlflowDatabase,
  rotateManagedDatabase,
} from './mlflow-database';
import { acknowledgeRule } from './nag-acknowledgements';
import { ISOLATED_SUBNET_GROUP } from './network';
import { PASSWORD_EXCLUDED_CHARACTERS } from './rds-postgres';

export interface AuroraServerlessProps {
  readonly vpc: ec2.IVpc;
  /** Cluster identifier; fixed so the Postgres log group can be created (with retention) first. */
  readonly clusterIdentifier: string;
  readonly retainData: boolean;
  /** A reader in the second AZ that takes over when the writer's AZ fails. */
  readonly multiAz: boolean;
  readonly logRetention: logs.RetentionDays;
  /** ACUs; 0 lets the cluster pause after `autoPause` without connections. */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Idle time before a 0-ACU cluster pauses (5 minutes to 24 hours). @default 10 minutes */
  readonly autoPause?: Duration;
  /** @default 'mlflow' */
  readonly databaseName?: string;
  /** Not 5432, as cdk-nag (AwsSolutions-RDS11) asks. @default 5433 */
  readonly port?: number;
  /** Rotation of the master's and MLflow's passwords. */
  readonly rotation: DatabaseRotationProps;
}

/**
 * MLflow's backend store on Aurora PostgreSQL Serverless v2 in the isolated subnets. At a minimum
 * of 0 ACU the cluster pauses when no connection has been open for `autoPause`, and costs only
 * storage while paused; the MLflow task must then close its idle connections (lib/mlflow-service.ts
 * sets SQLAlchemy's NullPool), and the first request after a pause waits ~15 s for the resume.
 */
export class AuroraServerless extends Construct implements MlflowDatabase {
  readonly host: string;
  readonly port: string;
  readonly databaseName: string;
  readonly secret: secretsmanager.ISecret;
  readonly tls = 'verify-full' as const;
  readonly managed: ManagedDatabaseSecrets;
  readonly cluster: rds.DatabaseCluster;

  constructor(scope: Construct, id: string, props: AuroraServerlessProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'mlflow';
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(props.clusterIdentifier) || props.clusterIdentifier.includes('--')) {
      throw new Error(
        `AuroraServerlessProps.clusterIdentifier must be lowercase letters, digits and single hyphens (got '${props.clusterIdentifier}')`,
      );
    }
    if (!(props.minCapacity >= 0 && props.maxCapacity >= 1 && props.maxCapacity >= props.minCapacity)) {
      throw new Error(
        `AuroraServerlessProps.minCapacity/maxCapacity must satisfy 0 <= min <= max, max >= 1 (got ${props.minCapacity}/${props.maxCapacity})`,
      );
    }
    const autoPause = props.autoPause ?? Duration.minutes(10);
    if (autoPause.toSeconds() < 300 || autoPause.toSeconds() > 86_400) {
      throw new Error(
        `AuroraServerlessProps.autoPause must be 5 minutes to 24 hours (got ${autoPause.toHumanString()})`,
      );
    }
    const port = props.port ?? 5433;
    const logGroup = new logs.LogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/cluster/${props.clusterIdentifier}/postgresql`,
      retention: props.logRetention,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      clusterIdentifier: props.clusterIdentifier,
      // 16.3 and later can pause at 0 ACU.
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: ISOLATED_SUBNET_GROUP },
      port,
      defaultDatabaseName: this.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret('mlflow', {
        excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
      }),
      writer: rds.ClusterInstance.serverlessV2('writer', { publiclyAccessible: false }),
      readers: props.multiAz
        ? [rds.ClusterInstance.serverlessV2('reader', { scaleWithWriter: true, publiclyAccessible: false })]
        : [],
      serverlessV2MinCapacity: props.minCapacity,
      serverlessV2MaxCapacity: props.maxCapacity,
      ...(props.minCapacity === 0 ? { serverlessV2AutoPauseDuration: autoPause } : {}),
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      deletionProtection: props.retainData,
      removalPolicy: props.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      cloudwatchLogsExports: ['postgresql'],
      iamAuthentication: false,
    });
    this.cluster.node.addDependency(logGroup);
    const masterSecret = this.cluster.secret;
    if (!masterSecret) throw new Error('AuroraServerless: generated credentials produced no secret');
    // MLflow's own user, with the master's ARN (`masterarn`) the multi-user rotation clones it with.
    this.secret = new rds.DatabaseSecret(this, 'MlflowUserSecret', {
      username: MLFLOW_DB_ROLE,
      dbname: this.databaseName,
      masterSecret,
      excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
    }).attach(this.cluster);
    this.host = this.cluster.clusterEndpoint.hostname;
    this.port = String(port);
    const rotation = rotateManagedDatabase(this, {
      ...props.rotation,
      vpc: props.vpc,
      database: this.cluster,
      masterSecret,
      userSecret: this.secret,
      excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
    });
    this.managed = {
      masterSecret,
      role: MLFLOW_DB_ROLE,
      rotations: rotation.rotations,
      rotationSecurityGroup: rotation.securityGroup,
    };
    acknowledgeRule(
      this.cluster,
      'RDS6',
      'MLflow connects with the password from Secrets Manager; it has no IAM database authentication.',
    );
  }

  allowFrom(securityGroup: ec2.ISecurityGroup): void {
    this.cluster.connections.allowDefaultPortFrom(securityGroup, 'Postgres from the MLflow server');
  }
}

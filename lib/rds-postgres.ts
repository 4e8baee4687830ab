import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
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

export interface RdsPostgresProps {
  readonly vpc: ec2.IVpc;
  /** DB instance identifier; fixed so the Postgres log group can be created (with retention) before the instance. */
  readonly instanceIdentifier: string;
  /** Deletion protection on, and a final snapshot instead of deletion, when the stack goes. */
  readonly retainData: boolean;
  readonly multiAz: boolean;
  readonly logRetention: logs.RetentionDays;
  /** @default t4g.micro: MLflow's metadata is small; t4g.small doubles the price for 2 GB of RAM. */
  readonly instanceType?: ec2.InstanceType;
  /** @default 'mlflow' */
  readonly databaseName?: string;
  /** Not 5432, as cdk-nag (AwsSolutions-RDS11) asks. @default 5433 */
  readonly port?: number;
  /** @default Duration.days(7) */
  readonly backupRetention?: Duration;
  /** Rotation of the master's and MLflow's passwords. */
  readonly rotation: DatabaseRotationProps;
}

/** Punctuation left out of generated passwords: the password is put into a connection URI. */
export const PASSWORD_EXCLUDED_CHARACTERS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\,=^';

/** MLflow's backend store on RDS for PostgreSQL, in the isolated subnets. */
export class RdsPostgres extends Construct implements MlflowDatabase {
  readonly host: string;
  readonly port: string;
  readonly databaseName: string;
  readonly secret: secretsmanager.ISecret;
  readonly tls = 'verify-full' as const;
  readonly managed: ManagedDatabaseSecrets;
  readonly instance: rds.DatabaseInstance;
  readonly allocatedStorageGiB = 20;

  constructor(scope: Construct, id: string, props: RdsPostgresProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'mlflow';
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(this.databaseName)) {
      throw new Error(
        `RdsPostgresProps.databaseName must be a lowercase Postgres identifier (got '${this.databaseName}')`,
      );
    }
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(props.instanceIdentifier) || props.instanceIdentifier.includes('--')) {
      throw new Error(
        `RdsPostgresProps.instanceIdentifier must be lowercase letters, digits and single hyphens (got '${props.instanceIdentifier}')`,
      );
    }
    const port = props.port ?? 5433;
    if (!Number.isInteger(port) || port < 1150 || port > 65535) {
      throw new Error(`RdsPostgresProps.port must be 1150-65535 (got ${port})`);
    }

    const removalPolicy = props.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY;
    // Created here rather than with cloudwatchLogsRetention, which adds a log-retention Lambda.
    const logGroup = new logs.LogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/instance/${props.instanceIdentifier}/postgresql`,
      retention: props.logRetention,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      instanceIdentifier: props.instanceIdentifier,
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: ISOLATED_SUBNET_GROUP },
      port,
      databaseName: this.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret('mlflow', {
        excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
      }),
      multiAz: props.multiAz,
      storageEncrypted: true,
      // gp3: the same price per GB as gp2, with a 3,000 IOPS baseline at any size.
      storageType: rds.StorageType.GP3,
      allocatedStorage: this.allocatedStorageGiB,
      maxAllocatedStorage: 200,
      backupRetention: props.backupRetention ?? Duration.days(7),
      deletionProtection: props.retainData,
      removalPolicy,
      cloudwatchLogsExports: ['postgresql'],
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
    });
    this.instance.node.addDependency(logGroup);
    const masterSecret = this.instance.secret;
    if (!masterSecret) throw new Error('RdsPostgres: generated credentials produced no secret');
    // MLflow's own user, with the master's ARN (`masterarn`) the multi-user rotation clones it with.
    this.secret = new rds.DatabaseSecret(this, 'MlflowUserSecret', {
      username: MLFLOW_DB_ROLE,
      dbname: this.databaseName,
      masterSecret,
      excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
    }).attach(this.instance);
    this.host = this.instance.dbInstanceEndpointAddress;
    this.port = this.instance.dbInstanceEndpointPort;
    const rotation = rotateManagedDatabase(this, {
      ...props.rotation,
      vpc: props.vpc,
      database: this.instance,
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
    if (!props.multiAz) {
      acknowledgeRule(
        this.instance,
        'RDS3',
        'Multi-AZ is off by configuration (mlflow.rdsMultiAz=false) to halve the cost outside prod.',
      );
    }
  }

  allowFrom(securityGroup: ec2.ISecurityGroup): void {
    this.instance.connections.allowDefaultPortFrom(securityGroup, 'Postgres from the MLflow server');
  }
}

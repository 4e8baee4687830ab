import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/**
 * MLflow's own database role on RDS and Aurora: not the master user. Its secret is rotated by
 * alternating users (the rotation function creates `mlflow_app_clone` and switches between the
 * two), and MLflow's connections `SET ROLE mlflow_app` (docker/mlflow/entrypoint.sh), so whatever
 * it creates is owned by this role whichever of the two users logged in.
 */
export const MLFLOW_DB_ROLE = 'mlflow_app';

/**
 * Where docker/mlflow/Dockerfile puts Amazon RDS's CA bundle (all regions): MLflow verifies the
 * database's certificate and host name against it (`sslmode=verify-full`).
 */
export const RDS_CA_BUNDLE_PATH = '/usr/local/share/rds/global-bundle.pem';

/** What the MLflow server needs from its Postgres backend store, whichever way it is hosted. */
export interface MlflowDatabase {
  /** DNS name the MLflow task connects to. */
  readonly host: string;
  /** Port as a string (an RDS endpoint port is a token). */
  readonly port: string;
  readonly databaseName: string;
  /** JSON secret with `username` and `password`: the user MLflow connects as. */
  readonly secret: secretsmanager.ISecret;
  /**
   * `verify-full`: TLS, the server's certificate checked against RDS's CA and its host name.
   * `none`: no TLS (the ECS Postgres task has no certificate).
   */
  readonly tls: 'verify-full' | 'none';
  /**
   * A managed database (RDS, Aurora) whose passwords rotate: MLflow connects as its own role
   * (MLFLOW_DB_ROLE, or its rotation clone), which a bootstrap step creates with the master
   * credentials before the server starts. Absent for the ECS Postgres: MLflow connects as the
   * master user there and nothing rotates.
   */
  readonly managed?: ManagedDatabaseSecrets;
  /** Admits connections from this security group (the MLflow task's) on the database port, and nothing else. */
  allowFrom(securityGroup: ec2.ISecurityGroup): void;
}

export interface ManagedDatabaseSecrets {
  /** The master user's secret: read only by the role bootstrap and the rotation functions. */
  readonly masterSecret: secretsmanager.ISecret;
  /** The role MLflow's sessions act as (`SET ROLE`), whichever of the alternating users logs in. */
  readonly role: string;
  /** The rotations of the master's and MLflow's secrets (they must wait until the role exists). */
  readonly rotations: readonly secretsmanager.RotationSchedule[];
  /** The rotation functions' group: it needs Secrets Manager (the VPC endpoint, without NAT). */
  readonly rotationSecurityGroup: ec2.SecurityGroup;
}

export interface DatabaseRotationProps {
  /** Days between rotations (a stage setting, mlflow.databaseRotationDays). */
  readonly every: Duration;
  /** Where the rotation functions run: they reach the database and Secrets Manager from there. */
  readonly vpcSubnets: ec2.SubnetSelection;
}

/**
 * Secrets Manager's hosted rotation for a managed Postgres: the master user by itself (single
 * user: nothing long-running logs in with it), MLflow's user by alternating users. The multi-user
 * scheme keeps the previous user's password valid for a whole period after a rotation, so tasks
 * started with it keep working until lib/mlflow-service.ts has replaced them (it redeploys the
 * service on the rotation's success event).
 */
export function rotateManagedDatabase(
  scope: Construct,
  props: DatabaseRotationProps & {
    readonly vpc: ec2.IVpc;
    readonly database: ec2.IConnectable;
    readonly masterSecret: secretsmanager.ISecret;
    readonly userSecret: secretsmanager.ISecret;
    readonly excludeCharacters: string;
  },
): { rotations: secretsmanager.RotationSchedule[]; securityGroup: ec2.SecurityGroup } {
  const days = props.every.toDays({ integral: false });
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    throw new Error(
      `DatabaseRotationProps.every must be 1-365 whole days (got ${props.every.toHumanString()})`,
    );
  }
  const securityGroup = new ec2.SecurityGroup(scope, 'RotationSecurityGroup', {
    vpc: props.vpc,
    description: 'Database password rotation functions: reach the database and Secrets Manager',
    allowAllOutbound: true,
  });
  props.database.connections.allowDefaultPortFrom(
    securityGroup,
    'Postgres from the password rotation functions',
  );
  const common = {
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: [securityGroup],
    excludeCharacters: props.excludeCharacters,
  };
  // Function names are at most 64 characters and unique in the account and region.
  const name = (suffix: string) =>
    `${Stack.of(scope).stackName}`.slice(0, 64 - suffix.length - 1).concat('-', suffix);
  const master = props.masterSecret.addRotationSchedule('Rotation', {
    hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
      ...common,
      functionName: name('db-master-rotation'),
    }),
    automaticallyAfter: Duration.days(days),
  });
  const user = props.userSecret.addRotationSchedule('Rotation', {
    hostedRotation: secretsmanager.HostedRotation.postgreSqlMultiUser({
      ...common,
      masterSecret: props.masterSecret,
      functionName: name('db-mlflow-rotation'),
    }),
    automaticallyAfter: Duration.days(days),
  });
  return { rotations: [master, user], securityGroup };
}

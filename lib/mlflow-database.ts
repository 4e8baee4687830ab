import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** What the MLflow server needs from its Postgres backend store, whichever way it is hosted. */
export interface MlflowDatabase {
  /** DNS name the MLflow task connects to. */
  readonly host: string;
  /** Port as a string (an RDS endpoint port is a token). */
  readonly port: string;
  readonly databaseName: string;
  /** JSON secret with `username` and `password`. */
  readonly secret: secretsmanager.ISecret;
  /** Admits connections from this security group (the MLflow task's) on the database port, and nothing else. */
  allowFrom(securityGroup: ec2.ISecurityGroup): void;
}

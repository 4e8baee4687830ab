import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag-acknowledgements';

export interface DataLakeProps {
  /** Keep every bucket (and its objects) when the stack is deleted; otherwise empty and delete them. */
  readonly retainData: boolean;
  /** Days before raw landing objects expire. @default 365 */
  readonly landingExpirationDays?: number;
  /** Days before intermediate pipeline objects (`work/`, `training-runs/`) expire. @default 30 */
  readonly workExpirationDays?: number;
  /** Days before quarantined rows expire. @default 90 */
  readonly quarantineExpirationDays?: number;
  /** Days before server access logs expire. @default 365 */
  readonly accessLogExpirationDays?: number;
  /**
   * Without retainData: empty the buckets on stack deletion through CDK's auto-delete custom
   * resource. A local emulator (`-c localstack=true`) turns it off: the custom resource's Lambda
   * needs the AWS SDK and bucket tags there, and `npm run local:deploy -- --destroy` empties the
   * buckets itself. @default true
   */
  readonly autoDeleteObjects?: boolean;
}

/** The data lake's buckets, one per kind of data, so each function's grant names its bucket. */
export class DataLake extends Construct {
  /** Raw drops: `landing/<dataset>/<batch>/…`. */
  readonly landing: s3.Bucket;
  /** `work/<runId>/` (pipeline scratch), `datasets/<name>/<version>/` (published), `training-runs/<runId>/`. */
  readonly curated: s3.Bucket;
  /** `predictions/<runId>/`. */
  readonly predictions: s3.Bucket;
  /** `quarantine/<dataset>/<runId>/`: rows that broke the data contract. */
  readonly quarantine: s3.Bucket;
  /** `drift/<runId>/` reports and history, `monitoring/alert-state/` episodes. */
  readonly monitoring: s3.Bucket;
  /** MLflow's artifact store (the server proxies it; clients never write here directly). */
  readonly artifacts: s3.Bucket;
  /** S3 server access logs, ALB access logs (`alb/`) and VPC flow logs (`vpc-flow-logs/`). */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataLakeProps) {
    super(scope, id);
    const days = {
      landing: props.landingExpirationDays ?? 365,
      work: props.workExpirationDays ?? 30,
      quarantine: props.quarantineExpirationDays ?? 90,
      accessLogs: props.accessLogExpirationDays ?? 365,
    };
    for (const [name, value] of Object.entries(days)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(
          `DataLakeProps.${name}ExpirationDays must be a positive whole number of days (got ${value})`,
        );
      }
    }
    if (days.landing <= 30) {
      throw new Error(
        `DataLakeProps.landingExpirationDays must be over 30: landing objects move to Infrequent Access at 30 days (got ${days.landing})`,
      );
    }

    const removal = props.retainData
      ? { removalPolicy: RemovalPolicy.RETAIN }
      : { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: props.autoDeleteObjects ?? true };
    const secure = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      ...removal,
    } satisfies s3.BucketProps;
    const abortUploads: s3.LifecycleRule = {
      id: 'abort-incomplete-uploads',
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    };

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      lifecycleRules: [abortUploads, { id: 'expire-logs', expiration: Duration.days(days.accessLogs) }],
    });
    acknowledgeRule(
      this.accessLogs,
      'S1',
      'This is the access log bucket; logging it into itself would loop.',
    );

    const bucket = (name: string, extra: Partial<s3.BucketProps>) =>
      new s3.Bucket(this, name, {
        ...secure,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: `s3/${name.toLowerCase()}/`,
        ...extra,
        lifecycleRules: [abortUploads, ...(extra.lifecycleRules ?? [])],
      });

    this.landing = bucket('Landing', {
      lifecycleRules: [
        {
          id: 'age-out-raw-drops',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
          ],
          expiration: Duration.days(days.landing),
        },
      ],
    });
    this.curated = bucket('Curated', {
      // Published dataset versions are immutable by convention; versioning makes a mistake recoverable.
      versioned: true,
      lifecycleRules: [
        { id: 'expire-work', prefix: 'work/', expiration: Duration.days(days.work) },
        { id: 'expire-training-runs', prefix: 'training-runs/', expiration: Duration.days(days.work) },
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
    });
    this.predictions = bucket('Predictions', {
      lifecycleRules: [
        {
          id: 'age-out-predictions',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
          ],
        },
      ],
    });
    this.quarantine = bucket('Quarantine', {
      lifecycleRules: [{ id: 'expire-quarantine', expiration: Duration.days(days.quarantine) }],
    });
    this.monitoring = bucket('Monitoring', {
      lifecycleRules: [
        {
          id: 'age-out-drift-reports',
          prefix: 'drift/',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
          ],
        },
      ],
    });
    this.artifacts = bucket('Artifacts', {
      // Model artifacts back registered versions: keep overwritten or deleted ones for a while.
      versioned: true,
      lifecycleRules: [{ id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(90) }],
    });
  }
}

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DELIVERIES_PREFIX } from '../lambdas/serving-sync/delivery-log';
import { grantPrefixAccess } from './bucket-access';

/** Where the manifests live: `serving/<model>/<alias>.json` (lambdas/core/serving-manifest/manifest.ts). */
export const MANIFEST_PREFIX = 'serving/';
/** Where the model copies live: `models/<model>/<version>/<file>`. */
export const MODEL_FILES_PREFIX = 'models/';

export interface ServingBucketProps {
  /** Keep the bucket (and its history) when the stack is deleted; otherwise empty and delete it. */
  readonly retainData: boolean;
  /**
   * Days an overwritten or deleted object is kept as a noncurrent version. The manifests'
   * versions are the alias history (`mlops history`), so this is how far back it goes.
   * @default 365
   */
  readonly historyDays?: number;
  /** Receives the bucket's server access logs under `s3/serving/`. */
  readonly accessLogsBucket: s3.IBucket;
  /** As DataLakeProps.autoDeleteObjects (off on a local emulator). @default true */
  readonly autoDeleteObjects?: boolean;
}

/**
 * The serving bucket: one manifest per served model and alias (`serving/`) and the model files it
 * names (`models/`). The predict API reads only this bucket, never MLflow; the writers (the CLI,
 * the training pipeline's promote step, the MLflow webhook and the reconciler) keep it equal to
 * the registry. Versioned: every write of a manifest is a move of the alias, kept for
 * `historyDays`.
 */
export class ServingBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly historyDays: number;

  constructor(scope: Construct, id: string, props: ServingBucketProps) {
    super(scope, id);
    this.historyDays = props.historyDays ?? 365;
    if (!Number.isInteger(this.historyDays) || this.historyDays < 1) {
      throw new Error(
        `ServingBucketProps.historyDays must be a positive whole number of days (got ${this.historyDays})`,
      );
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 's3/serving/',
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        {
          id: 'keep-history',
          noncurrentVersionExpiration: Duration.days(this.historyDays),
          expiredObjectDeleteMarker: true,
        },
        {
          // The webhook's delivery ids: replays are refused within the signature's 5-minute window.
          id: 'expire-webhook-deliveries',
          prefix: DELIVERIES_PREFIX,
          expiration: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      ...(props.retainData
        ? { removalPolicy: RemovalPolicy.RETAIN }
        : { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: props.autoDeleteObjects ?? true }),
    });
  }

  /**
   * The predict API's access: s3:GetObject on the manifests and the model files, and
   * s3:ListBucket, nothing else (no write). The list right is there for its side effect: S3
   * answers a GET of a missing key with 404 only to a caller that may list the bucket (a
   * prefix-scoped list does not count), so an alias with no manifest yet reads as "not published"
   * instead of an access error. It reveals key names, which are model names and versions.
   */
  grantServe(role: iam.Role): void {
    grantPrefixAccess(role, { bucket: this.bucket, prefix: MANIFEST_PREFIX, read: true, list: 'bucket' });
    grantPrefixAccess(role, { bucket: this.bucket, prefix: MODEL_FILES_PREFIX, read: true });
  }

  /**
   * A writer's access (publishAliasManifest): read, write and delete manifests, read and write
   * model files, and list the bucket — S3 answers a GET or HEAD of a missing key with 404 (not
   * 403) only to a caller that may list it, and the publisher tells "no manifest yet" and "no copy
   * yet" from errors that way; the reconciler lists `serving/<model>/`.
   */
  grantPublish(role: iam.Role): void {
    grantPrefixAccess(role, {
      bucket: this.bucket,
      prefix: MANIFEST_PREFIX,
      read: true,
      write: true,
      delete: true,
      list: 'bucket',
    });
    grantPrefixAccess(role, { bucket: this.bucket, prefix: MODEL_FILES_PREFIX, read: true, write: true });
  }
}

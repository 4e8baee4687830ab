import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeWildcards } from './nag-acknowledgements';

/** What a role may do under one prefix of one bucket. */
export interface PrefixAccess {
  readonly bucket: s3.IBucket;
  /** Key prefix ending with `/`, e.g. `work/`. */
  readonly prefix: string;
  /** s3:GetObject on `<prefix>*`. */
  readonly read?: boolean;
  /** s3:PutObject and s3:AbortMultipartUpload on `<prefix>*`. */
  readonly write?: boolean;
  /** s3:DeleteObject on `<prefix>*`. */
  readonly delete?: boolean;
  /**
   * s3:ListBucket: `prefix` limits it to keys under the prefix (condition `s3:prefix`); `bucket`
   * allows listing the whole bucket, which S3 requires to answer a GET of a missing key with
   * 404 NoSuchKey instead of 403.
   */
  readonly list?: 'prefix' | 'bucket';
}

/**
 * Grants exactly the named S3 actions on one prefix, never `s3:*` or the `s3:GetObject*` families
 * `bucket.grantRead` hands out, and records the cdk-nag reason for the `<prefix>*` object
 * wildcard on this role alone.
 */
export function grantPrefixAccess(role: iam.Role, access: PrefixAccess): void {
  if (!/^([A-Za-z0-9!_.'()-]+\/)+$/.test(access.prefix)) {
    throw new Error(`PrefixAccess.prefix must be a key prefix ending with '/' (got '${access.prefix}')`);
  }
  const objectActions = [
    ...(access.read ? ['s3:GetObject'] : []),
    ...(access.write ? ['s3:PutObject', 's3:AbortMultipartUpload'] : []),
    ...(access.delete ? ['s3:DeleteObject'] : []),
  ];
  if (objectActions.length === 0 && !access.list) {
    throw new Error(`PrefixAccess for '${access.prefix}' grants nothing: set read, write, delete or list`);
  }
  if (objectActions.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: objectActions,
        resources: [access.bucket.arnForObjects(`${access.prefix}*`)],
      }),
    );
    acknowledgeWildcards(
      role,
      { resources: [access.bucket.arnForObjects(`${access.prefix}*`)] },
      `Object actions are limited to the '${access.prefix}' prefix; the keys below it are chosen at run time.`,
    );
  }
  if (access.list) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [access.bucket.bucketArn],
        ...(access.list === 'prefix'
          ? { conditions: { StringLike: { 's3:prefix': [access.prefix, `${access.prefix}*`] } } }
          : {}),
      }),
    );
  }
}

import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

describe('DataLake', () => {
  it('blocks public access and encrypts every bucket with S3-managed keys', () => {
    const { template } = synthStage('dev');
    const buckets = resourcesOfType(template, 'AWS::S3::Bucket');
    // The data lake's seven and the serving bucket (lib/serving.ts), secured alike.
    expect(Object.keys(buckets)).toHaveLength(8);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
    }
  });

  it('denies every request without TLS on every bucket', () => {
    const { template } = synthStage('dev');
    const policies = Object.values(resourcesOfType(template, 'AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(8);
    for (const policy of policies) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('logs access of every data bucket into the access-log bucket', () => {
    const { stack, template } = synthStage('dev');
    const logsBucket = stack.getLogicalId(stack.dataLake.accessLogs.node.defaultChild as never);
    const buckets = resourcesOfType(template, 'AWS::S3::Bucket');
    const logged = Object.entries(buckets).filter(([, b]) => b.Properties.LoggingConfiguration);
    expect(logged.map(([id]) => id).sort()).toEqual(
      Object.keys(buckets)
        .filter((id) => id !== logsBucket)
        .sort(),
    );
    for (const [, bucket] of logged) {
      expect(bucket.Properties.LoggingConfiguration).toMatchObject({
        DestinationBucketName: { Ref: logsBucket },
      });
    }
  });

  it('versions the MLflow artifacts and curated datasets', () => {
    const { stack, template } = synthStage('dev');
    for (const bucket of [stack.dataLake.artifacts, stack.dataLake.curated]) {
      const id = stack.getLogicalId(bucket.node.defaultChild as never);
      expect(template.toJSON().Resources[id].Properties.VersioningConfiguration).toEqual({
        Status: 'Enabled',
      });
    }
  });

  it('expires pipeline scratch after 30 days and quarantined rows after 90', () => {
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-work', Prefix: 'work/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ Id: 'expire-training-runs', Prefix: 'training-runs/', ExpirationInDays: 30 }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-quarantine', ExpirationInDays: 90 })]),
      },
    });
  });

  it('deletes and empties the buckets with a dev stack', () => {
    const { template } = synthStage('dev');
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Delete');
    }
    expect(Object.keys(template.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(8);
  });

  it('retains every bucket and its objects with a prod stack', () => {
    const { template } = synthStage('prod');
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
    expect(template.findResources('Custom::S3AutoDeleteObjects')).toEqual({});
  });
});

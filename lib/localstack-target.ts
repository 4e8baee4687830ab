import {
  Aws,
  DefaultStackSynthesizer,
  type DockerImageAssetLocation,
  type DockerImageAssetSource,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { MlflowAccess } from './mlops-function';

/**
 * What changes when the stack is deployed to LocalStack (`-c localstack=true`, `npm run
 * local:deploy`): LocalStack's free edition runs the Lambdas, Step Functions, S3, SES, API Gateway
 * and EventBridge of the stack, but not ECS Fargate, the load balancer, RDS, ECR or SageMaker.
 */

export interface ExternalMlflowProps {
  readonly vpc: ec2.IVpc;
  /** The server's URL as the functions reach it. */
  readonly trackingUri: string;
  /** Its basic-auth user, handed to the functions as plain environment variables. */
  readonly credentials?: { readonly username: string; readonly password: string };
}

/**
 * An MLflow server the stack does not run (under LocalStack: the compose file's `mlflow` service).
 * The functions get its URL and a client security group, as they would for the ECS service.
 */
export class ExternalMlflow extends Construct implements MlflowAccess {
  readonly vpc: ec2.IVpc;
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly trackingUri: string;
  readonly plainCredentials?: { readonly username: string; readonly password: string };

  constructor(scope: Construct, id: string, props: ExternalMlflowProps) {
    super(scope, id);
    if (!/^https?:\/\/[^\s/]+/.test(props.trackingUri)) {
      throw new Error(`ExternalMlflowProps.trackingUri must be an http(s) URL (got '${props.trackingUri}')`);
    }
    this.vpc = props.vpc;
    this.trackingUri = props.trackingUri;
    if (props.credentials) this.plainCredentials = props.credentials;
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: props.vpc,
      description: 'MLflow clients (the MLflow server is outside the stack)',
      allowAllOutbound: true,
    });
  }
}

/**
 * The default synthesizer, except that container images are not built or pushed: LocalStack's free
 * edition has no ECR, and the one image left with an external MLflow is the SageMaker trainer's,
 * which LocalStack cannot run either. The image URI names a repository that does not exist.
 */
export class LocalStackSynthesizer extends DefaultStackSynthesizer {
  static readonly UNPUBLISHED_REPOSITORY = 'mlops-unpublished-images';

  override addDockerImageAsset(asset: DockerImageAssetSource): DockerImageAssetLocation {
    const repositoryName = LocalStackSynthesizer.UNPUBLISHED_REPOSITORY;
    return {
      repositoryName,
      imageTag: asset.sourceHash,
      imageUri: `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${repositoryName}:${asset.sourceHash}`,
    };
  }
}

import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * NAT gateways. One keeps dev cheap; two keep egress up when an AZ fails. NAT rather than
   * interface endpoints: the functions need S3 (free gateway endpoint below), SES, ECR, Secrets
   * Manager and CloudWatch Logs, and five interface endpoints in two AZs cost more than one NAT.
   */
  readonly natGateways: number;
  /** Where VPC flow logs go (prefix `vpc-flow-logs/`). */
  readonly flowLogBucket: s3.IBucket;
  /** @default 10.40.0.0/16 */
  readonly cidr?: string;
}

/**
 * A two-AZ VPC: public subnets for the NAT gateways, private subnets (with egress) for MLflow,
 * its Postgres task and the Lambdas, isolated subnets for RDS.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (!Number.isInteger(props.natGateways) || props.natGateways < 1 || props.natGateways > 2) {
      throw new Error(`NetworkProps.natGateways must be 1 or 2 (got ${props.natGateways})`);
    }
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.40.0.0/16'),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        // Free, and keeps data-lake traffic off the NAT gateway.
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toS3(props.flowLogBucket, 'vpc-flow-logs/'),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
  }

  /** The private subnet ids, one per AZ (SageMaker training jobs take exactly these). */
  get privateSubnetIds(): [string, string] {
    const ids = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    if (ids.length !== 2) throw new Error(`expected two private subnets, found ${ids.length}`);
    return [ids[0] as string, ids[1] as string];
  }
}

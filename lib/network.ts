import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag-acknowledgements';

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
  /**
   * For a local emulator (`-c localstack=true`): no NAT gateway, EIP or flow log (an emulator
   * neither needs nor knows them), the `private` subnets isolated instead of routed through NAT,
   * and no custom resource restricting the default security group. `natGateways` is ignored.
   * @default false
   */
  readonly emulator?: boolean;
}

/** The subnet group of the Lambdas, MLflow and the SageMaker jobs (isolated under an emulator). */
export const PRIVATE_SUBNET_GROUP = 'private';

/**
 * A two-AZ VPC: public subnets for the NAT gateways, private subnets (with egress) for MLflow,
 * its Postgres task and the Lambdas, isolated subnets for RDS.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const emulator = props.emulator ?? false;
    if (
      !emulator &&
      (!Number.isInteger(props.natGateways) || props.natGateways < 1 || props.natGateways > 2)
    ) {
      throw new Error(`NetworkProps.natGateways must be 1 or 2 (got ${props.natGateways})`);
    }
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.40.0.0/16'),
      maxAzs: 2,
      natGateways: emulator ? 0 : props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        {
          name: PRIVATE_SUBNET_GROUP,
          subnetType: emulator ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
          cidrMask: 20,
        },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        // Free, and keeps data-lake traffic off the NAT gateway.
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      ...(emulator
        ? { restrictDefaultSecurityGroup: false }
        : {
            flowLogs: {
              all: {
                destination: ec2.FlowLogDestination.toS3(props.flowLogBucket, 'vpc-flow-logs/'),
                trafficType: ec2.FlowLogTrafficType.ALL,
              },
            },
          }),
    });
    if (emulator) {
      acknowledgeRule(
        this.vpc,
        'VPC7',
        'Local emulator variant (-c localstack=true): an emulator has no flow logs; the AWS variant keeps them.',
      );
    }
  }

  /** The private subnet ids, one per AZ (SageMaker training jobs take exactly these). */
  get privateSubnetIds(): [string, string] {
    const ids = this.vpc.selectSubnets({ subnetGroupName: PRIVATE_SUBNET_GROUP }).subnetIds;
    if (ids.length !== 2) throw new Error(`expected two private subnets, found ${ids.length}`);
    return [ids[0] as string, ids[1] as string];
  }
}

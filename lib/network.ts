import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag-acknowledgements';

export interface NetworkProps {
  /**
   * NAT gateways: 0, 1 or 2. With 0 (the cheap default) nothing in the `private` subnets reaches
   * the internet: they are isolated, S3 comes through the free gateway endpoint, and whatever needs
   * AWS APIs beyond S3 either stays out of the VPC (Lambdas that never call MLflow) or runs in the
   * public subnets with a public IP and a security group that admits only its clients (the ECS
   * tasks: `tasksInPublicSubnets`); the MLflow callers' one AWS API besides S3, Secrets Manager (their
   * password), comes through one interface endpoint. Endpoints for the tasks too would cost more than
   * a NAT gateway: ECR (2), Secrets Manager and CloudWatch Logs in two AZs are 8 × $7.30 a month. One NAT keeps
   * the tasks private; two keep egress up when an AZ fails.
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

/**
 * The subnet group of the Lambdas that call MLflow, the MLflow load balancer and the SageMaker jobs
 * (and of the ECS tasks when there is a NAT gateway); isolated without NAT and under an emulator.
 */
export const PRIVATE_SUBNET_GROUP = 'private';
/** The subnet group of the databases: never a route out. */
export const ISOLATED_SUBNET_GROUP = 'isolated';

/**
 * A two-AZ VPC: public subnets (NAT gateways, or the ECS tasks when there is none), private
 * subnets for the MLflow load balancer and the Lambdas that call MLflow (with NAT egress or
 * isolated), isolated subnets for the database.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /**
   * No NAT gateway: the ECS tasks (MLflow, its Postgres) run in the public subnets with a public
   * IPv4 address to pull images and read secrets; their security groups admit only their clients.
   */
  readonly tasksInPublicSubnets: boolean;
  /** Secrets Manager's interface endpoint, when the private subnets have no NAT. */
  readonly secretsEndpoint?: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const emulator = props.emulator ?? false;
    if (
      !emulator &&
      (!Number.isInteger(props.natGateways) || props.natGateways < 0 || props.natGateways > 2)
    ) {
      throw new Error(`NetworkProps.natGateways must be 0, 1 or 2 (got ${props.natGateways})`);
    }
    const egress = !emulator && props.natGateways > 0;
    this.tasksInPublicSubnets = !emulator && !egress;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.40.0.0/16'),
      maxAzs: 2,
      natGateways: emulator ? 0 : props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        {
          name: PRIVATE_SUBNET_GROUP,
          subnetType: egress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 20,
        },
        { name: ISOLATED_SUBNET_GROUP, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
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
    if (!emulator && !egress) {
      // The functions and SageMaker jobs that call MLflow sit in isolated subnets and read their
      // MLflow password from Secrets Manager at start: its interface endpoint, in one AZ ($7.30 a
      // month; reachable from both, at the price of a dependency on that AZ for cold starts).
      // Closed by default: the stack admits the MLflow clients' security group (allowSecretsFrom).
      this.secretsEndpoint = this.vpc.addInterfaceEndpoint('SecretsManager', {
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: {
          subnetGroupName: PRIVATE_SUBNET_GROUP,
          availabilityZones: [this.vpc.availabilityZones[0] as string],
        },
        privateDnsEnabled: true,
        open: false,
      });
    }
    if (emulator) {
      acknowledgeRule(
        this.vpc,
        'VPC7',
        'Local emulator variant (-c localstack=true): an emulator has no flow logs; the AWS variant keeps them.',
      );
    }
  }

  /** Lets members of `peer` reach Secrets Manager through the endpoint (a no-op with NAT egress). */
  allowSecretsFrom(peer: ec2.IConnectable): void {
    this.secretsEndpoint?.connections.allowDefaultPortFrom(peer, 'Secrets Manager from an MLflow client');
  }

  /** The private subnet ids, one per AZ (SageMaker training jobs take exactly these). */
  get privateSubnetIds(): [string, string] {
    const ids = this.vpc.selectSubnets({ subnetGroupName: PRIVATE_SUBNET_GROUP }).subnetIds;
    if (ids.length !== 2) throw new Error(`expected two private subnets, found ${ids.length}`);
    return [ids[0] as string, ids[1] as string];
  }
}

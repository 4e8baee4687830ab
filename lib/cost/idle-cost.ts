/**
 * The monthly cost of a synthesized stack doing nothing: every resource that bills by the hour or
 * month whether or not it is used, priced from a pinned price table (lib/cost/prices-us-east-1.json).
 * Usage-billed resources (Lambda, S3, API Gateway, Step Functions…) are listed at $0 with a note,
 * and free configuration (IAM, subnets, security groups…) is counted, not listed. A resource type
 * this file does not know fails the calculation, naming it, so a new idle cost cannot slip past.
 */
import { z } from 'zod';

const instancePrice = z.object({ singleAz: z.number().nonnegative(), multiAz: z.number().nonnegative() });
const fargateArch = z.object({ vcpuHour: z.number().positive(), gbHour: z.number().positive() });

export const priceTableSchema = z.object({
  region: z.string(),
  currency: z.literal('USD'),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-12-03'),
  hoursPerMonth: z.number().positive(),
  sources: z.record(z.string(), z.string()),
  natGatewayHour: z.number().nonnegative(),
  publicIpv4Hour: z.number().nonnegative(),
  interfaceEndpointHourPerAz: z.number().nonnegative(),
  fargate: z.object({ x86_64: fargateArch, arm64: fargateArch, spotDiscount: z.number().min(0).lt(1) }),
  albHour: z.number().nonnegative(),
  albLcuHour: z.number().nonnegative(),
  rdsPostgres: z.object({
    instanceHour: z.record(z.string(), instancePrice),
    storageGbMonth: z.record(z.string(), instancePrice),
  }),
  auroraServerlessV2AcuHour: z.number().nonnegative(),
  secretMonth: z.number().nonnegative(),
  kmsKeyMonth: z.number().nonnegative(),
  alarmMetricMonth: z.number().nonnegative(),
  compositeAlarmMonth: z.number().nonnegative(),
  dashboardMonth: z.number().nonnegative(),
  customMetricMonth: z.number().nonnegative(),
  containerInsightsMetrics: z.object({
    perCluster: z.number().int().nonnegative(),
    perService: z.number().int().nonnegative(),
  }),
  wafWebAclMonth: z.number().nonnegative(),
  wafRuleMonth: z.number().nonnegative(),
  hostedZoneMonth: z.number().nonnegative(),
  cloudMapInstanceMonth: z.number().nonnegative(),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

export interface CostLine {
  readonly logicalId: string;
  readonly type: string;
  /** The construct path when the template has it, else the logical id. */
  readonly name: string;
  readonly monthlyUsd: number;
  /** How the figure was computed (`730 h × $0.045`), or why it is 0. */
  readonly basis: string;
  readonly usageBased?: boolean;
}

export interface IdleCost {
  readonly totalMonthlyUsd: number;
  readonly resources: CostLine[];
  /** Resources that cost nothing by existing (IAM roles, subnets…), counted by type. */
  readonly free: Record<string, number>;
}

/** Billed only for what they do (requests, GB stored, GB processed): $0 when idle. */
const USAGE_BASED: Record<string, string> = {
  'AWS::Lambda::Function': 'requests and GB-seconds',
  'AWS::Lambda::LayerVersion': 'stored with the functions (no charge)',
  'AWS::S3::Bucket': 'GB stored and requests',
  'AWS::ApiGateway::RestApi': 'requests (no cache cluster)',
  'AWS::StepFunctions::StateMachine': 'state transitions',
  'AWS::SQS::Queue': 'requests',
  'AWS::SNS::Topic': 'publishes and deliveries',
  'AWS::Scheduler::Schedule': 'invocations (14 million a month free)',
  'AWS::Logs::LogGroup': 'GB ingested and stored (retention set, not priced here)',
  'AWS::EFS::FileSystem': 'GB stored and elastic throughput',
  'AWS::SES::EmailIdentity': 'e-mails sent',
  'AWS::EC2::FlowLog': 'GB of flow logs delivered',
  'AWS::RDS::DBCluster': 'Aurora storage GB-month and I/O (compute is on its instances)',
  'AWS::DynamoDB::Table': 'on-demand requests and GB stored',
  'AWS::Events::Rule': 'events',
  'AWS::ECR::Repository': 'GB stored',
  'AWS::SageMaker::Model': 'none until an endpoint or job runs',
  'AWS::SecretsManager::RotationSchedule': "the rotation function's invocations (rotating is free)",
};

/** Cost nothing by existing. */
const FREE_PREFIXES = ['AWS::IAM::', 'AWS::CDK::', 'AWS::ApiGateway::', 'AWS::Lambda::'];
const FREE = new Set([
  'AWS::WAFv2::WebACLAssociation',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::Route',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::ECS::TaskDefinition',
  'AWS::ECS::ClusterCapacityProviderAssociations',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::S3::BucketPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::RDS::DBSubnetGroup',
  'AWS::RDS::DBClusterParameterGroup',
  'AWS::RDS::DBParameterGroup',
  'AWS::EFS::MountTarget',
  'AWS::EFS::AccessPoint',
  'AWS::KMS::Alias',
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
]);

export class CostError extends Error {
  override name = 'CostError';
}

/** Prices every resource of the template; throws a CostError naming a resource it cannot price. */
export function idleCost(template: CfnTemplate, prices: PriceTable): IdleCost {
  const hours = prices.hoursPerMonth;
  const resources: CostLine[] = [];
  const free: Record<string, number> = {};
  const entries = Object.entries(template.Resources ?? {});
  const byId = new Map(entries);

  const add = (logicalId: string, resource: CfnResource, monthlyUsd: number, basis: string) => {
    resources.push({ logicalId, type: resource.Type, name: nameOf(logicalId, resource), monthlyUsd, basis });
  };
  const hourly = (rate: number, count = 1) => ({
    usd: rate * hours * count,
    basis: `${count === 1 ? '' : `${count} × `}${hours} h × $${rate}`,
  });

  for (const [logicalId, resource] of entries) {
    const props = resource.Properties ?? {};
    const where = `${logicalId} (${resource.Type})`;
    switch (resource.Type) {
      case 'AWS::EC2::NatGateway': {
        const { usd, basis } = hourly(prices.natGatewayHour);
        add(logicalId, resource, usd, `${basis} (plus $/GB processed)`);
        break;
      }
      case 'AWS::EC2::EIP': {
        const { usd, basis } = hourly(prices.publicIpv4Hour);
        add(logicalId, resource, usd, `${basis} public IPv4`);
        break;
      }
      case 'AWS::EC2::VPCEndpoint': {
        if ((props.VpcEndpointType ?? 'Gateway') === 'Gateway') {
          add(logicalId, resource, 0, 'gateway endpoint: no charge');
        } else {
          const azs = arrayOf(props.SubnetIds, `${where} SubnetIds`).length;
          const { usd, basis } = hourly(prices.interfaceEndpointHourPerAz, azs);
          add(logicalId, resource, usd, `${basis} (interface endpoint, one per AZ)`);
        }
        break;
      }
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const type = (props.Type as string | undefined) ?? 'application';
        if (type !== 'application') throw new CostError(`${where}: no price for a ${type} load balancer`);
        // LCU-hours bill the traffic processed (the highest of four dimensions each hour); an idle load
        // balancer processes none (its health checks to the targets are not client traffic).
        let usd = prices.albHour * hours;
        let basis = `${hours} h × $${prices.albHour} (LCU-hours at $${prices.albLcuHour} are usage-based: 0 idle)`;
        if (props.Scheme !== 'internal') {
          const subnets = arrayOf(props.Subnets ?? props.SubnetMappings, `${where} Subnets`).length;
          usd += prices.publicIpv4Hour * hours * subnets;
          basis += ` + ${subnets} public IPv4 × $${prices.publicIpv4Hour}/h`;
        }
        add(logicalId, resource, usd, basis);
        break;
      }
      case 'AWS::ECS::Service':
        add(logicalId, resource, ...fargateService(logicalId, resource, byId, prices));
        break;
      case 'AWS::ECS::Cluster': {
        const insights = arrayOf(props.ClusterSettings ?? [], `${where} ClusterSettings`).find(
          (setting) => (setting as { Name?: string }).Name === 'containerInsights',
        ) as { Value?: string } | undefined;
        if (!insights || insights.Value === 'disabled') {
          add(logicalId, resource, 0, 'cluster: no charge; Container Insights off');
        } else {
          const services = entries.filter(
            ([, r]) => r.Type === 'AWS::ECS::Service' && refersTo(r.Properties?.Cluster, logicalId),
          ).length;
          const metrics =
            prices.containerInsightsMetrics.perCluster +
            prices.containerInsightsMetrics.perService * services;
          add(
            logicalId,
            resource,
            metrics * prices.customMetricMonth,
            `Container Insights: ~${metrics} custom metrics (${services} services) × $${prices.customMetricMonth}`,
          );
        }
        break;
      }
      case 'AWS::RDS::DBInstance':
        add(logicalId, resource, ...databaseInstance(logicalId, resource, byId, prices));
        break;
      case 'AWS::SecretsManager::Secret':
        add(logicalId, resource, prices.secretMonth, `1 secret × $${prices.secretMonth}`);
        break;
      case 'AWS::KMS::Key':
        add(logicalId, resource, prices.kmsKeyMonth, `1 customer managed key × $${prices.kmsKeyMonth}`);
        break;
      case 'AWS::CloudWatch::Alarm': {
        const metrics = Array.isArray(props.Metrics)
          ? (props.Metrics as { MetricStat?: unknown }[]).filter((m) => m.MetricStat !== undefined).length
          : 1;
        add(
          logicalId,
          resource,
          metrics * prices.alarmMetricMonth,
          `${metrics} alarm metric${metrics === 1 ? '' : 's'} × $${prices.alarmMetricMonth}`,
        );
        break;
      }
      case 'AWS::CloudWatch::CompositeAlarm':
        add(
          logicalId,
          resource,
          prices.compositeAlarmMonth,
          `composite alarm × $${prices.compositeAlarmMonth}`,
        );
        break;
      case 'AWS::CloudWatch::Dashboard':
        add(logicalId, resource, prices.dashboardMonth, `1 dashboard × $${prices.dashboardMonth}`);
        break;
      case 'AWS::WAFv2::WebACL': {
        const rules = arrayOf(props.Rules ?? [], `${where} Rules`).length;
        add(
          logicalId,
          resource,
          prices.wafWebAclMonth + rules * prices.wafRuleMonth,
          `web ACL $${prices.wafWebAclMonth} + ${rules} rules × $${prices.wafRuleMonth} (plus $/million requests)`,
        );
        break;
      }
      case 'AWS::ServiceDiscovery::PrivateDnsNamespace':
      case 'AWS::Route53::HostedZone':
        add(
          logicalId,
          resource,
          prices.hostedZoneMonth,
          `1 private hosted zone × $${prices.hostedZoneMonth}`,
        );
        break;
      case 'AWS::ServiceDiscovery::Service':
        add(
          logicalId,
          resource,
          prices.cloudMapInstanceMonth,
          `1 registered instance × $${prices.cloudMapInstanceMonth}`,
        );
        break;
      case 'AWS::ApiGateway::Stage':
        if (props.CacheClusterEnabled === true || props.CacheClusterEnabled === 'true') {
          throw new CostError(`${where}: no price for an API Gateway cache cluster`);
        }
        free[resource.Type] = (free[resource.Type] ?? 0) + 1;
        break;
      default: {
        const usage = USAGE_BASED[resource.Type];
        if (usage !== undefined) {
          resources.push({
            logicalId,
            type: resource.Type,
            name: nameOf(logicalId, resource),
            monthlyUsd: 0,
            basis: `usage-based: ${usage}`,
            usageBased: true,
          });
        } else if (resource.Type.startsWith('Custom::')) {
          resources.push({
            logicalId,
            type: resource.Type,
            name: nameOf(logicalId, resource),
            monthlyUsd: 0,
            basis: 'usage-based: the provider Lambda runs on deploy only',
            usageBased: true,
          });
        } else if (FREE.has(resource.Type) || FREE_PREFIXES.some((p) => resource.Type.startsWith(p))) {
          free[resource.Type] = (free[resource.Type] ?? 0) + 1;
        } else {
          throw new CostError(
            `${where}: no price for this resource type; add it to lib/cost/idle-cost.ts (priced, usage-based or free)`,
          );
        }
      }
    }
  }
  const total = resources.reduce((sum, line) => sum + line.monthlyUsd, 0);
  return { totalMonthlyUsd: roundCents(total), resources, free };
}

function fargateService(
  logicalId: string,
  resource: CfnResource,
  byId: Map<string, CfnResource>,
  prices: PriceTable,
): [number, string] {
  const props = resource.Properties ?? {};
  const where = `${logicalId} (${resource.Type})`;
  const launchType = props.LaunchType as string | undefined;
  const strategy = (props.CapacityProviderStrategy ?? []) as {
    CapacityProvider?: string;
    Weight?: number;
    Base?: number;
  }[];
  if (launchType !== undefined && launchType !== 'FARGATE') {
    throw new CostError(`${where}: no price for launch type ${launchType}`);
  }
  for (const item of strategy) {
    if (item.CapacityProvider !== 'FARGATE' && item.CapacityProvider !== 'FARGATE_SPOT') {
      throw new CostError(`${where}: no price for capacity provider ${String(item.CapacityProvider)}`);
    }
  }
  const taskDefId = refId(props.TaskDefinition, `${where} TaskDefinition`);
  const taskDef = byId.get(taskDefId)?.Properties;
  if (!taskDef) throw new CostError(`${where}: TaskDefinition ${taskDefId} is not in the template`);
  const vcpu = Number(taskDef.Cpu) / 1024;
  const gb = Number(taskDef.Memory) / 1024;
  if (!(vcpu > 0) || !(gb > 0)) {
    throw new CostError(
      `${taskDefId}: Cpu and Memory must be numbers (got ${String(taskDef.Cpu)}, ${String(taskDef.Memory)})`,
    );
  }
  const platform = taskDef.RuntimePlatform as { CpuArchitecture?: string } | undefined;
  const arch = platform?.CpuArchitecture === 'ARM64' ? 'arm64' : 'x86_64';
  const desired = Number(props.DesiredCount ?? 1);
  const spotTasks = spotTaskCount(desired, strategy);
  const rate = prices.fargate[arch];
  const perTaskHour = vcpu * rate.vcpuHour + gb * rate.gbHour;
  const onDemandTasks = desired - spotTasks;
  const spotFactor = 1 - prices.fargate.spotDiscount;
  const compute = perTaskHour * prices.hoursPerMonth * (onDemandTasks + spotTasks * spotFactor);
  const network = props.NetworkConfiguration as
    | { AwsvpcConfiguration?: { AssignPublicIp?: string } }
    | undefined;
  const publicIps = network?.AwsvpcConfiguration?.AssignPublicIp === 'ENABLED' ? desired : 0;
  const ipCost = publicIps * prices.publicIpv4Hour * prices.hoursPerMonth;
  const tasks = [
    onDemandTasks > 0 ? `${onDemandTasks} on-demand` : '',
    spotTasks > 0 ? `${spotTasks} Spot (−${Math.round(prices.fargate.spotDiscount * 100)}%)` : '',
  ]
    .filter(Boolean)
    .join(' + ');
  let basis = `${tasks} × ${vcpu} vCPU/${gb} GB ${arch} × ${prices.hoursPerMonth} h ($${roundTo(perTaskHour, 5)}/task-h)`;
  if (publicIps > 0) basis += ` + ${publicIps} public IPv4 × $${prices.publicIpv4Hour}/h`;
  return [compute + ipCost, basis];
}

/** Tasks ECS places on FARGATE_SPOT: `base` first, the rest split by weight (rounded down to Spot). */
export function spotTaskCount(
  desired: number,
  strategy: readonly { CapacityProvider?: string; Weight?: number; Base?: number }[],
): number {
  if (strategy.length === 0) return 0;
  let remaining = desired;
  let spot = 0;
  for (const item of strategy) {
    const base = Math.min(item.Base ?? 0, remaining);
    if (item.CapacityProvider === 'FARGATE_SPOT') spot += base;
    remaining -= base;
  }
  const totalWeight = strategy.reduce((sum, item) => sum + (item.Weight ?? 0), 0);
  if (totalWeight === 0) return spot;
  const spotWeight = strategy
    .filter((item) => item.CapacityProvider === 'FARGATE_SPOT')
    .reduce((sum, item) => sum + (item.Weight ?? 0), 0);
  return spot + Math.floor((remaining * spotWeight) / totalWeight);
}

function databaseInstance(
  logicalId: string,
  resource: CfnResource,
  byId: Map<string, CfnResource>,
  prices: PriceTable,
): [number, string] {
  const props = resource.Properties ?? {};
  const where = `${logicalId} (${resource.Type})`;
  const instanceClass = props.DBInstanceClass as string | undefined;
  if (instanceClass === 'db.serverless') {
    const clusterId = refId(props.DBClusterIdentifier, `${where} DBClusterIdentifier`);
    const scaling = byId.get(clusterId)?.Properties?.ServerlessV2ScalingConfiguration as
      | { MinCapacity?: number }
      | undefined;
    if (scaling?.MinCapacity === undefined) {
      throw new CostError(
        `${clusterId}: an Aurora Serverless v2 cluster needs ServerlessV2ScalingConfiguration.MinCapacity`,
      );
    }
    const acu = Number(scaling.MinCapacity);
    const usd = acu * prices.auroraServerlessV2AcuHour * prices.hoursPerMonth;
    return [
      usd,
      acu === 0
        ? 'Aurora Serverless v2 at min 0 ACU: paused when idle, $0 (plus $/ACU-hour while it runs)'
        : `${acu} ACU minimum × ${prices.hoursPerMonth} h × $${prices.auroraServerlessV2AcuHour}`,
    ];
  }
  const engine = String(props.Engine ?? '');
  if (engine !== 'postgres') throw new CostError(`${where}: no price for engine '${engine}'`);
  if (!instanceClass) throw new CostError(`${where}: DBInstanceClass is missing`);
  const rate = prices.rdsPostgres.instanceHour[instanceClass];
  if (!rate) {
    throw new CostError(
      `${where}: no price for ${instanceClass}; add it to rdsPostgres.instanceHour in the price table`,
    );
  }
  const multiAz = props.MultiAZ === true || props.MultiAZ === 'true';
  const az = multiAz ? 'multiAz' : 'singleAz';
  const storageType = String(props.StorageType ?? 'gp2');
  const storageRate = prices.rdsPostgres.storageGbMonth[storageType];
  if (!storageRate) throw new CostError(`${where}: no price for storage type ${storageType}`);
  const gb = Number(props.AllocatedStorage ?? 20);
  const usd = rate[az] * prices.hoursPerMonth + gb * storageRate[az];
  return [
    usd,
    `${instanceClass}${multiAz ? ' Multi-AZ' : ''} ${prices.hoursPerMonth} h × $${rate[az]} + ${gb} GB ${storageType} × $${storageRate[az]}`,
  ];
}

function refId(value: unknown, what: string): string {
  if (value && typeof value === 'object' && 'Ref' in value && typeof value.Ref === 'string') return value.Ref;
  throw new CostError(
    `${what}: expected a { Ref } to a resource of the template, got ${JSON.stringify(value)}`,
  );
}

function refersTo(value: unknown, logicalId: string): boolean {
  return !!value && typeof value === 'object' && 'Ref' in value && value.Ref === logicalId;
}

function arrayOf(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new CostError(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

function nameOf(logicalId: string, resource: CfnResource): string {
  const path = resource.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path.split('/').slice(1).join('/') : logicalId;
}

function roundTo(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundCents(value: number): number {
  return roundTo(value, 2);
}

/** The report as a Markdown table: priced lines by cost, then usage-based ones, then the free count. */
export function formatTable(stage: string, cost: IdleCost, prices: PriceTable): string {
  const priced = cost.resources.filter((r) => !r.usageBased).sort((a, b) => b.monthlyUsd - a.monthlyUsd);
  const usage = cost.resources.filter((r) => r.usageBased);
  const rows = [...priced, ...usage].map(
    (r) => `| ${r.name} | ${r.type} | ${r.monthlyUsd.toFixed(2)} | ${r.basis} |`,
  );
  const freeCount = Object.values(cost.free).reduce((a, b) => a + b, 0);
  return [
    `# Idle cost of MlopsStack-${stage}`,
    '',
    `Monthly cost doing nothing, ${prices.region} on-demand list prices as of ${prices.asOf} (lib/cost/prices-${prices.region}.json), ${prices.hoursPerMonth} h a month.`,
    '',
    '| Resource | Type | USD/month | Basis |',
    '| --- | --- | ---: | --- |',
    ...rows,
    `| **Total** | | **${cost.totalMonthlyUsd.toFixed(2)}** | |`,
    '',
    `Plus ${freeCount} resources that cost nothing by existing: ${Object.entries(cost.free)
      .map(([type, n]) => `${n} ${type}`)
      .join(', ')}.`,
    '',
  ].join('\n');
}

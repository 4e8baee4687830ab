import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  CostError,
  idleCost,
  priceTableSchema,
  spotTaskCount,
} from '../../lib/cost/idle-cost';
import { PROJECT_ROOT } from '../../lib/mlops-function';

const prices = priceTableSchema.parse(
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'lib/cost/prices-us-east-1.json'), 'utf8')),
);

/** Six priced resources, two usage-based ones and two free ones; each total below is worked by hand. */
const template: CfnTemplate = {
  Resources: {
    Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} },
    NatIp: { Type: 'AWS::EC2::EIP', Properties: { Domain: 'vpc' } },
    Logs: {
      Type: 'AWS::EC2::VPCEndpoint',
      Properties: { VpcEndpointType: 'Interface', SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }] },
    },
    S3: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
    Task: {
      Type: 'AWS::ECS::TaskDefinition',
      Properties: { Cpu: '1024', Memory: '2048', RuntimePlatform: { CpuArchitecture: 'ARM64' } },
    },
    Service: {
      Type: 'AWS::ECS::Service',
      Properties: {
        TaskDefinition: { Ref: 'Task' },
        DesiredCount: 2,
        CapacityProviderStrategy: [
          { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
          { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
        ],
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } },
      },
    },
    Db: {
      Type: 'AWS::RDS::DBInstance',
      Properties: {
        Engine: 'postgres',
        DBInstanceClass: 'db.t4g.micro',
        MultiAZ: true,
        AllocatedStorage: '20',
        StorageType: 'gp3',
      },
    },
    Aurora: {
      Type: 'AWS::RDS::DBCluster',
      Properties: { ServerlessV2ScalingConfiguration: { MinCapacity: 0 } },
    },
    AuroraWriter: {
      Type: 'AWS::RDS::DBInstance',
      Properties: { DBInstanceClass: 'db.serverless', DBClusterIdentifier: { Ref: 'Aurora' } },
    },
    ErrorRate: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Metrics: [
          { Id: 'requests', MetricStat: {} },
          { Id: 'errors', MetricStat: {} },
          { Id: 'rate', Expression: '100 * errors / requests' },
        ],
      },
    },
    Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
  },
};

describe('idleCost', () => {
  const cost = idleCost(template, prices);
  const line = (id: string) => cost.resources.find((r) => r.logicalId === id)?.monthlyUsd;

  it('prices each idle-billed resource from the table', () => {
    expect(line('Nat')).toBeCloseTo(32.85, 6); // 730 h × $0.045
    expect(line('NatIp')).toBeCloseTo(3.65, 6); // 730 h × $0.005
    expect(line('Logs')).toBeCloseTo(14.6, 6); // 2 AZs × 730 h × $0.01
    expect(line('S3')).toBe(0);
    // 1 vCPU × $0.03238 + 2 GB × $0.00356 = $0.0395/task-h; 730 h → $28.835 on demand, × 0.3 on Spot,
    // plus two public IPv4 addresses (2 × 730 h × $0.005 = $7.30).
    expect(line('Service')).toBeCloseTo(28.835 + 8.6505 + 7.3, 6);
    expect(line('Db')).toBeCloseTo(730 * 0.032 + 20 * 0.23, 6); // $23.36 + $4.60
    expect(line('AuroraWriter')).toBe(0); // min 0 ACU: paused when idle
    expect(line('ErrorRate')).toBeCloseTo(0.2, 6); // two metrics, the expression is free
  });

  it('lists usage-based resources at $0 and counts free ones', () => {
    expect(cost.resources.find((r) => r.logicalId === 'Fn')).toMatchObject({
      monthlyUsd: 0,
      usageBased: true,
    });
    expect(cost.resources.find((r) => r.logicalId === 'Aurora')).toMatchObject({
      monthlyUsd: 0,
      usageBased: true,
    });
    expect(cost.free).toEqual({ 'AWS::ECS::TaskDefinition': 1, 'AWS::IAM::Role': 1 });
  });

  it('totals to the cent', () => {
    // 32.85 + 3.65 + 14.60 + 44.7855 + 27.96 + 0.20 = 124.0455
    expect(cost.totalMonthlyUsd).toBe(124.05);
  });

  it('prices an Aurora Serverless v2 minimum above 0 by the ACU-hour', () => {
    const withMin = structuredClone(template) as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    withMin.Resources.Aurora = {
      ...withMin.Resources.Aurora,
      Properties: { ServerlessV2ScalingConfiguration: { MinCapacity: 0.5 } },
    } as never;
    const priced = idleCost(withMin as unknown as CfnTemplate, prices);
    expect(priced.resources.find((r) => r.logicalId === 'AuroraWriter')?.monthlyUsd).toBeCloseTo(43.8, 6);
  });

  it('refuses a resource type it cannot price, naming it', () => {
    expect(() =>
      idleCost({ Resources: { Cache: { Type: 'AWS::ElastiCache::CacheCluster', Properties: {} } } }, prices),
    ).toThrow(
      new CostError(
        'Cache (AWS::ElastiCache::CacheCluster): no price for this resource type; add it to lib/cost/idle-cost.ts (priced, usage-based or free)',
      ),
    );
  });

  it('refuses an RDS instance class missing from the table, naming the class', () => {
    expect(() =>
      idleCost(
        {
          Resources: {
            Db: {
              Type: 'AWS::RDS::DBInstance',
              Properties: { Engine: 'postgres', DBInstanceClass: 'db.x2g.16xlarge' },
            },
          },
        },
        prices,
      ),
    ).toThrow(/Db \(AWS::RDS::DBInstance\): no price for db\.x2g\.16xlarge/);
  });
});

describe('spotTaskCount', () => {
  it('places base tasks first, then splits the rest by weight', () => {
    expect(spotTaskCount(1, [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }])).toBe(1);
    expect(
      spotTaskCount(3, [
        { CapacityProvider: 'FARGATE', Base: 1, Weight: 1 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
      ]),
    ).toBe(1);
    expect(spotTaskCount(2, [])).toBe(0);
  });
});

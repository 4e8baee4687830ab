import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { synthStage } from '../../support/cdk-stage';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      )
      // CDK acknowledges some of its own template-validation warnings; only ours are checked here.
      .filter((ack) => ack.id.startsWith('AwsSolutions-')),
  );
}

describe.each(['dev', 'prod'] as const)('cdk-nag AwsSolutions on the %s stack', (stage) => {
  it('reports no unacknowledged finding', () => {
    const { stack } = synthStage(stage);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(
      report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual(
      [],
    );
  });

  it('acknowledges findings one construct at a time, each with a reason and IAM5 per exact wildcard', () => {
    const { stack } = synthStage(stage);
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(10);
    for (const ack of acks) {
      expect(ack.path).not.toBe(stack.node.path);
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThan(30);
      if (ack.id.startsWith('AwsSolutions-IAM')) expect(ack.id).toMatch(/\[(Resource|Action|Policy)::.+\]$/);
    }
  });
});

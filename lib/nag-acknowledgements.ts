import { Aws, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 acknowledgements, kept narrow: each is recorded on the one construct it concerns
 * (`Validations.of(construct).acknowledge`), with a reason, and a wildcard is acknowledged only
 * as the exact finding cdk-nag reports (`AwsSolutions-IAM5[Resource::<Bucket.Arn>/work/*]`), never
 * as the whole rule.
 */

/** Acknowledges one AwsSolutions rule (e.g. `S1`) on one construct and its children. */
export function acknowledgeRule(scope: IConstruct, rule: string, reason: string): void {
  if (!/^[A-Z]+[0-9]+$/.test(rule))
    throw new Error(`acknowledgeRule: '${rule}' is not an AwsSolutions rule id like S1`);
  if (rule === 'IAM5')
    throw new Error('acknowledgeRule: acknowledge IAM5 per finding with acknowledgeWildcards');
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/**
 * Acknowledges AwsSolutions-IAM5 for exactly these wildcard resources (ARNs, tokens allowed) and
 * actions (e.g. `ecr:GetAuthorizationToken` is not a wildcard; `s3:GetObject*` is).
 */
export function acknowledgeWildcards(
  scope: IConstruct,
  wildcards: { readonly resources?: readonly string[]; readonly actions?: readonly string[] },
  reason: string,
): void {
  const stack = Stack.of(scope);
  const findings = [
    ...(wildcards.resources ?? []).map((arn) => `Resource::${nagFinding(stack.resolve(arn))}`),
    ...(wildcards.actions ?? []).map((action) => `Action::${action}`),
  ];
  for (const finding of findings) {
    if (!finding.includes('*'))
      throw new Error(`acknowledgeWildcards: '${finding}' has no wildcard to acknowledge`);
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

/** Acknowledges AwsSolutions-IAM4 for one AWS managed policy (e.g. `service-role/AmazonAPIGatewayPushToCloudWatchLogs`). */
export function acknowledgeManagedPolicy(scope: IConstruct, policyName: string, reason: string): void {
  // Managed policy ARNs carry the partition as a pseudo parameter even in a region-bound stack.
  const arn = `arn:${Aws.PARTITION}:iam::aws:policy/${policyName}`;
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM4[Policy::${nagFinding(Stack.of(scope).resolve(arn))}]`,
    reason,
  });
}

/**
 * A resolved CloudFormation value rendered the way cdk-nag prints it in a finding:
 * `Fn::GetAtt` → `<Id.Attr>`, `Ref` → `<Id>`, `Fn::Join` concatenated.
 */
export function nagFinding(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(nagFinding).join(delimiter);
    }
    if ('Fn::Sub' in node) return nagFinding(node['Fn::Sub']);
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${nagFinding(resource)}.${nagFinding(attribute)}>`;
    }
    if ('Fn::ImportValue' in node) return nagFinding(node['Fn::ImportValue']);
    if ('Ref' in node) return `<${nagFinding(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

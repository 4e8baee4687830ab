import { describe, expect, it } from 'vitest';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

describe('DriftAlerts', () => {
  it('creates the sender as an SES e-mail identity', () => {
    synthStage('dev').template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'mlops-alerts@example.com',
    });
  });

  it('lets only the alert function send, and only from the configured address', () => {
    const policies = resourcesOfType(synthStage('dev').template, 'AWS::IAM::Policy');
    const sesGrants = Object.entries(policies).flatMap(([id, p]) =>
      (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('ses:')),
      ).map((s) => ({ id, statement: s })),
    );
    expect(sesGrants).toHaveLength(1);
    const [grant] = sesGrants;
    expect(grant?.id).toMatch(/^PipelinesSendDriftAlertRole/);
    expect(grant?.statement.Action).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
    expect(grant?.statement.Condition).toEqual({
      StringEquals: { 'ses:FromAddress': 'mlops-alerts@example.com' },
    });
    expect(JSON.stringify(grant?.statement.Resource)).toContain(':identity/mlops-alerts@example.com');
    expect(JSON.stringify(grant?.statement.Resource)).not.toContain('identity/*');
  });
});

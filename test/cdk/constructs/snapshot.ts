import { describe, expect, it } from 'vitest';
import { synthStage } from '../../support/cdk-stage';

describe('MlopsStack template', () => {
  // Only logical id → type: a drift alarm for added, removed or renamed resources that ignores
  // asset hashes and property details (the construct specs assert those).
  it('keeps its set of resources (dev)', () => {
    const resources = synthStage('dev').template.toJSON().Resources as Record<string, { Type: string }>;
    const shape = Object.fromEntries(
      Object.entries(resources)
        .map(([id, r]) => [id, r.Type] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    expect(shape).toMatchSnapshot();
  });
});

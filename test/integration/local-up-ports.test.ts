/** `npm run local:up` as a user runs it, with a bad port: the pure checks are in test/unit/local-service-ports.test.ts. */
import { describe, expect, it } from 'vitest';
import { runEntryPoint } from '../support/entry-point';

describe('npm run local:up with a bad MLOPS_*_PORT', () => {
  it('says which variable is wrong, in one line and without a stack', async () => {
    const result = await runEntryPoint('localstack/services/local-services.ts', ['up'], {
      env: { ...process.env, MLOPS_AWS_PORT: 'http' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      '[local] failed: MLOPS_AWS_PORT must be a port number (1-65535), got "http"',
    );
  });
});

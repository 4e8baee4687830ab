/** `npm run local:up` (`mlops local up`) as a user runs it, with a bad port: the in-process check is in test/unit/local-service-ports.test.ts. */
import { describe, expect, it } from 'vitest';
import { mlops } from '../support/entry-point';

describe('npm run local:up with a bad MLOPS_*_PORT', () => {
  it('says which variable is wrong, in one line and without a stack', async () => {
    const result = await mlops(['local', 'up'], { env: { ...process.env, MLOPS_AWS_PORT: 'http' } });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('mlops: MLOPS_AWS_PORT must be a port number (1-65535), got "http"');
  });
});

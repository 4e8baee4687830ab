/** bin/app.ts as the CDK CLI runs it: a bad stage stops synth with the config error alone. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEntryPoint } from '../support/entry-point';

function runApp(context: Record<string, string>) {
  return runEntryPoint('bin/app.ts', [], {
    // How the CDK CLI hands context and the output directory to the app.
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify(context),
      CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-app-')),
    },
  });
}

describe('bin/app.ts', () => {
  it('exits 1 with a one-line message naming the allowed stages for -c stage=qa', async () => {
    const result = await runApp({ stage: 'qa' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'Configuration error: Invalid context "stage": "qa". Allowed: dev, prod.',
    );
    expect(result.stdout).toBe('');
  });

  it('names each bad override and what it accepts', async () => {
    const result = await runApp({ driftThreshold: '1.5', alertSender: 'nobody' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('context "driftThreshold" (drift.threshold)');
    expect(result.stderr).toContain('context "alertSender" (alerts.senderEmail): must be an e-mail address');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

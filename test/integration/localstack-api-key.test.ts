import { APIGatewayClient, CreateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { describe, expect, it } from 'vitest';
import { predictApiKey } from '../../localstack/deploy/api-key';

// The local AWS endpoint (moto) implements API Gateway's key API like AWS.
const settings = {
  endpoint: process.env.AWS_ENDPOINT_URL ?? '',
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
};

// Unique (values may not repeat across keys, and the endpoint outlives a run), 20+ characters.
const KEY_VALUE = `predict-key-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;

describe('predictApiKey against the local API Gateway endpoint', () => {
  it('reads the value of the key the stack outputs by id', async () => {
    const client = new APIGatewayClient(settings);
    const created = await client.send(
      new CreateApiKeyCommand({
        name: `e2e-key-${Date.now()}`,
        enabled: true,
        value: KEY_VALUE,
      }),
    );
    client.destroy();
    expect(await predictApiKey(created.id ?? '', settings, {})).toBe(KEY_VALUE);
  });

  it('names the key when API Gateway does not know it', async () => {
    await expect(predictApiKey('no-such-key', settings, {})).rejects.toThrow(/no-such-key|Invalid API Key/i);
  });
});

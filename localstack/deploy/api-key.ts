/**
 * The predict API key's value, which the stack outputs only by id (PredictApiKeyId):
 * `MLOPS_PREDICT_API_KEY` when set, else API Gateway's GetApiKey with `includeValue`.
 */
import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';

export interface AwsClientSettings {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export class ApiKeyUnavailableError extends Error {
  override name = 'ApiKeyUnavailableError';
}

export async function predictApiKey(
  keyId: string,
  settings: AwsClientSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const given = env.MLOPS_PREDICT_API_KEY?.trim();
  if (given) return given;
  const client = new APIGatewayClient(settings);
  try {
    const key = await client.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: true }));
    if (!key.value)
      throw new ApiKeyUnavailableError(`API Gateway returned no value for the API key ${keyId}`);
    return key.value;
  } finally {
    client.destroy();
  }
}

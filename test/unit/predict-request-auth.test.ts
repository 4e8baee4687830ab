/**
 * The checks `npm run serve` makes before the handler runs, as API Gateway's AWS_IAM and API-key
 * authorization do: a request signed by the client code (the SDK's signer) passes; unsigned,
 * tampered, wrongly keyed, stale or otherwise-scoped requests are refused with API Gateway's
 * error type; the public routes need nothing.
 */
import { describe, expect, it } from 'vitest';
import { authHeaders } from '../../localstack/serve/api-client';
import { requestAuthFromEnv, requestAuthorizer } from '../../localstack/serve/request-auth';
import { type ReceivedRequest, signedHeaders, verifySignature } from '../../localstack/serve/sigv4';

const CREDENTIALS = { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'local-secret-key' };
const REGION = 'us-east-1';
const URL_ = 'http://127.0.0.1:3000/predict?alias=Challenger';
const BODY = JSON.stringify({ instances: [{ sepal_length: 5.1 }] });

/** The request as the server sees it, from what a client would send. */
function received(
  url: string,
  headers: Record<string, string>,
  body = BODY,
  method = 'POST',
): ReceivedRequest {
  const parsed = new URL(url);
  const lower: Record<string, string> = { host: parsed.host };
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return {
    method,
    path: parsed.pathname,
    search: parsed.search.slice(1),
    headers: lower,
    body: Buffer.from(body),
  };
}

async function signed(options: { secret?: string; region?: string; at?: Date; url?: string } = {}) {
  return signedHeaders(
    { url: options.url ?? URL_, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY },
    { ...CREDENTIALS, ...(options.secret ? { secretAccessKey: options.secret } : {}) },
    options.region ?? REGION,
    options.at ?? new Date(),
  );
}

const expected = { credentials: CREDENTIALS, region: REGION };

describe('SigV4 verification', () => {
  it('accepts a request signed with the same credentials, region and service', async () => {
    const headers = await signed();

    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIALOCALTEST\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(await verifySignature(received(URL_, headers), expected)).toBeUndefined();
  });

  it.each([
    [
      'no Authorization header',
      async () => received(URL_, { 'content-type': 'application/json' }),
      'MissingAuthenticationTokenException',
    ],
    [
      'a wrong secret',
      async () => received(URL_, await signed({ secret: 'not-the-secret' })),
      'InvalidSignatureException',
    ],
    [
      'a changed body',
      async () => received(URL_, await signed(), BODY.replace('5.1', '9.9')),
      'InvalidSignatureException',
    ],
    [
      'a changed query',
      async () => received('http://127.0.0.1:3000/predict?alias=Production', await signed()),
      'InvalidSignatureException',
    ],
    [
      'a changed method',
      async () => received(URL_, await signed(), BODY, 'PUT'),
      'InvalidSignatureException',
    ],
    [
      'another region',
      async () => received(URL_, await signed({ region: 'eu-west-1' })),
      'InvalidSignatureException',
    ],
    [
      'a date 6 minutes old',
      async () => received(URL_, await signed({ at: new Date(Date.now() - 6 * 60_000) })),
      'InvalidSignatureException',
    ],
    [
      'an unknown access key',
      async () => {
        const headers = await signed();
        return received(URL_, {
          ...headers,
          authorization: headers.authorization?.replace('AKIALOCALTEST', 'AKIAOTHER') ?? '',
        });
      },
      'UnrecognizedClientException',
    ],
    [
      'a malformed header',
      async () => received(URL_, { authorization: 'Bearer abc' }),
      'IncompleteSignatureException',
    ],
  ])('refuses %s with 403 %s', async (_, request, type) => {
    const rejection = await verifySignature(await request(), expected);

    expect(rejection?.type).toBe(type);
    expect(rejection?.message.length).toBeGreaterThan(10);
  });

  it('accepts a date within the 5-minute skew', async () => {
    const headers = await signed({ at: new Date(Date.now() - 4 * 60_000) });

    expect(await verifySignature(received(URL_, headers), expected)).toBeUndefined();
  });
});

describe('request authorizer', () => {
  it('lets the public routes through unsigned and holds /predict and /status to SigV4', async () => {
    const authorize = requestAuthorizer({ mode: 'iam', credentials: CREDENTIALS, region: REGION });
    const plain = (path: string, method = 'GET') => received(`http://127.0.0.1:3000${path}`, {}, '', method);

    expect(await authorize(plain('/health'))).toEqual({ ok: true, identity: {} });
    expect(await authorize(plain('/openapi.json'))).toEqual({ ok: true, identity: {} });
    expect(await authorize(plain('/status'))).toMatchObject({
      ok: false,
      message: 'Missing Authentication Token',
    });
    expect(await authorize(plain('/predict', 'POST'))).toMatchObject({ ok: false });
    // As API Gateway: an unknown route is not a way around the check.
    expect(await authorize(plain('/anything'))).toMatchObject({ ok: false });

    const url = 'http://127.0.0.1:3000/status';
    const caller = { mode: 'iam' as const, credentials: CREDENTIALS, region: REGION };
    const headers = await authHeaders(caller, url);
    expect(await authorize(received(url, headers, '', 'GET'))).toEqual({
      ok: true,
      identity: { accessKey: 'AKIALOCALTEST' },
    });
  });

  it('checks x-api-key in api-key mode', async () => {
    const authorize = requestAuthorizer({ mode: 'api-key', keys: ['k-one', 'k-two'] });

    expect(await authorize(received(URL_, { 'x-api-key': 'k-two' }))).toEqual({
      ok: true,
      identity: { apiKey: 'k-two' },
    });
    expect(await authorize(received(URL_, { 'x-api-key': 'k-thre' }))).toEqual({
      ok: false,
      type: 'ForbiddenException',
      message: 'Forbidden',
    });
    expect(await authorize(received(URL_, {}))).toMatchObject({ ok: false, message: 'Forbidden' });
  });

  it('reads its mode and secrets from the environment, naming what is missing', () => {
    expect(
      requestAuthFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_REGION: 'eu-west-1' }),
    ).toEqual({ mode: 'iam', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, region: 'eu-west-1' });
    expect(requestAuthFromEnv({ API_AUTH: 'api-key', MLOPS_API_KEY: 'x, y' })).toEqual({
      mode: 'api-key',
      keys: ['x', 'y'],
    });
    expect(() => requestAuthFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_REGION: 'eu-west-1' })).toThrow(
      /^AWS_SECRET_ACCESS_KEY is required with API_AUTH=iam/,
    );
    expect(() => requestAuthFromEnv({ API_AUTH: 'api-key' })).toThrow(/^MLOPS_API_KEY is required/);
    expect(() => requestAuthFromEnv({ API_AUTH: 'cognito' })).toThrow(
      'API_AUTH must be iam or api-key (got "cognito")',
    );
  });
});

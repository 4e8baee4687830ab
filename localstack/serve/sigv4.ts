/**
 * AWS Signature Version 4 for the predict API, both ways: clients sign requests the way the AWS
 * SDKs and `curl --aws-sigv4` do, and `npm run serve` checks them the way API Gateway's AWS_IAM
 * authorization does — it re-signs the request's canonical form with the credentials it knows
 * and compares the signatures in constant time. Both sides use @smithy/signature-v4, the SDK's
 * own signer, so the canonical request is AWS's, not a copy of it.
 */
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export const EXECUTE_API = 'execute-api';

/** How far a request's X-Amz-Date may be from the server's clock, as AWS allows. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the smithy signer takes. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function signer(credentials: SigningCredentials, region: string): SignatureV4 {
  return new SignatureV4({
    service: EXECUTE_API,
    region,
    credentials,
    sha256: NodeSha256,
    // As the SDKs sign execute-api calls: no x-amz-content-sha256 header.
    applyChecksum: false,
  });
}

/** `a=1&b=x%20y&b=z` as the signer takes it: decoded names and values, repeats as lists. */
export function queryOf(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = safeDecode(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : safeDecode(pair.slice(at + 1));
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else query[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface RequestToSign {
  readonly url: string;
  readonly method: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * The headers to send for a SigV4-signed request: the given ones plus `authorization`,
 * `x-amz-date` (and `x-amz-security-token` for temporary credentials). `host` is signed but not
 * returned: fetch sets it from the URL.
 */
export async function signedHeaders(
  request: RequestToSign,
  credentials: SigningCredentials,
  region: string,
  signingDate: Date = new Date(),
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  const signed = await signer(credentials, region).sign(
    {
      method: request.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: queryOf(url.search),
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    },
    { signingDate },
  );
  const { host: _host, ...toSend } = signed.headers as Record<string, string>;
  return toSend;
}

/** A request as the server received it: the raw path and query, lower-case header names. */
export interface ReceivedRequest {
  readonly method: string;
  /** As sent, still percent-encoded. */
  readonly path: string;
  /** As sent, without the `?`. */
  readonly search: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface ExpectedSigner {
  readonly credentials: SigningCredentials;
  readonly region: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/** API Gateway's answer to a request it does not authorize: the error type header and message. */
export interface Rejection {
  readonly type: string;
  readonly message: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Checks a request's SigV4 signature against the credentials the server knows; undefined when it
 * is valid, else the rejection API Gateway would answer (always a 403).
 */
export async function verifySignature(
  request: ReceivedRequest,
  expected: ExpectedSigner,
): Promise<Rejection | undefined> {
  const header = single(request.headers.authorization);
  if (header === undefined || header === '') {
    return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  }
  const match = AUTHORIZATION.exec(header.trim());
  if (!match) {
    return {
      type: 'IncompleteSignatureException',
      message:
        "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' (AWS4-HMAC-SHA256) parameters",
    };
  }
  const [, accessKeyId, day, region, service, signedList = '', signature = ''] = match;
  if (accessKeyId !== expected.credentials.accessKeyId) {
    return {
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (region !== expected.region || service !== EXECUTE_API) {
    return {
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region and service: expected ${expected.region}/${EXECUTE_API}, got ${region}/${service}`,
    };
  }
  const names = signedList.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) {
    return {
      type: 'IncompleteSignatureException',
      message: 'SignedHeaders must include host and x-amz-date',
    };
  }
  const amzDate = single(request.headers['x-amz-date']) ?? '';
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || amzDate.slice(0, 8) !== day) {
    return {
      type: 'IncompleteSignatureException',
      message: `X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z' on the credential's day (got '${amzDate.slice(0, 40)}')`,
    };
  }
  const now = (expected.now ?? Date.now)();
  if (Math.abs(now - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    return {
      type: 'InvalidSignatureException',
      message: `Signature expired: ${amzDate} is more than 5 minutes from the server time ${amzFormat(new Date(now))}.`,
    };
  }
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    if (value === undefined) return mismatch();
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const contentHash = single(request.headers['x-amz-content-sha256']);
  if (contentHash !== undefined && contentHash !== 'UNSIGNED-PAYLOAD') {
    if (contentHash !== createHash('sha256').update(request.body).digest('hex')) return mismatch();
  }
  const host = headers.host ?? '';
  const resigned = await signer(expected.credentials, expected.region).sign(
    {
      method: request.method.toUpperCase(),
      protocol: 'http:',
      hostname: host.replace(/:\d+$/, ''),
      path: request.path,
      query: queryOf(request.search),
      headers,
      body: request.body,
    },
    { signingDate, signableHeaders: new Set(names) },
  );
  const computed = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1] ?? '';
  const computedList = /SignedHeaders=([^,]+)/.exec(String(resigned.headers.authorization))?.[1];
  if (computedList !== signedList || !constantTimeEqual(computed, signature)) return mismatch();
  return undefined;
}

function mismatch(): Rejection {
  return {
    type: 'InvalidSignatureException',
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  };
}

/** Compares two secrets without an early exit on the first differing byte. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; compare against itself so the time does not depend on b.
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function amzFormat(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

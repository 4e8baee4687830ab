/**
 * A small stand-in for API Gateway's REST proxy integration: turns Node HTTP requests into
 * `APIGatewayProxyEvent`s (payload format 1.0), calls a Lambda handler in-process with a Lambda
 * context, and writes its `APIGatewayProxyResult` back. Like API Gateway it rejects bodies over
 * 10 MB itself and answers 502 when the handler throws or returns something malformed.
 *
 * Requests are handled concurrently, the way Lambda's runtime runs a function with
 * `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances): each invocation gets its own context
 * store, which Powertools uses to keep logs' request ids, metrics and dimensions per invocation.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Authorizer, CallerIdentity } from './request-auth';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface AdapterOptions {
  /** The function name reported in the Lambda context. @default 'local-function' */
  readonly functionName?: string;
  /** The function timeout the context counts down from. @default 30000 */
  readonly timeoutMs?: number;
  /** The API Gateway stage name in the request context. @default 'local' */
  readonly stage?: string;
  /** Called when the handler throws (API Gateway answers 502 then). */
  readonly onHandlerError?: (error: unknown) => void;
  /**
   * Checks the caller before the handler runs, as API Gateway's method authorization does
   * (request-auth.ts: SigV4 or the API key); a refusal is a 403 the handler never sees.
   * @default every request is let through
   */
  readonly authorize?: Authorizer;
}

/** API Gateway's payload limit. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export function createApiGatewayServer(handler: ProxyHandler, options: AdapterOptions = {}): Server {
  const store = installInvokeStore();
  return createServer((req, res) => {
    void serveRequest(handler, options, req, res, store);
  });
}

/** The slice of the runtime's `awslambda.InvokeStore` (package @aws/lambda-invoke-store) Powertools reads. */
export class LocalInvokeStore {
  private readonly storage = new AsyncLocalStorage<Map<string | symbol, unknown>>();

  run<T>(requestId: string, fn: () => T): T {
    return this.storage.run(new Map<string | symbol, unknown>([[REQUEST_ID, requestId]]), fn);
  }

  hasContext(): boolean {
    return this.storage.getStore() !== undefined;
  }

  getContext(): Record<string | symbol, unknown> | undefined {
    const store = this.storage.getStore();
    return store ? Object.fromEntries(store) : undefined;
  }

  get<T = unknown>(key: string | symbol): T | undefined {
    return this.storage.getStore()?.get(key) as T | undefined;
  }

  set<T = unknown>(key: string | symbol, value: T): void {
    this.storage.getStore()?.set(key, value);
  }

  getRequestId(): string {
    return this.get<string>(REQUEST_ID) ?? '-';
  }

  getXRayTraceId(): string | undefined {
    return undefined;
  }
}

const REQUEST_ID = Symbol('requestId');

/**
 * Makes this process look like a multi-concurrency Lambda environment (once per process). Call
 * it before a handler module starts work at import (Powertools then expects the store).
 */
export function installInvokeStore(): LocalInvokeStore {
  const existing: unknown = Reflect.get(globalThis, 'awslambda');
  const current = (existing as { InvokeStore?: unknown } | undefined)?.InvokeStore;
  if (current instanceof LocalInvokeStore) return current;
  const store = new LocalInvokeStore();
  Reflect.set(globalThis, 'awslambda', { ...(existing as object | undefined), InvokeStore: store });
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
  return store;
}

async function serveRequest(
  handler: ProxyHandler,
  options: AdapterOptions,
  req: IncomingMessage,
  res: ServerResponse,
  store: LocalInvokeStore,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, API_GATEWAY_MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof PayloadTooLarge) {
      writeResult(res, gatewayError(413, 'Request Too Long'));
      req.resume();
    } else {
      res.destroy();
    }
    return;
  }
  let identity: CallerIdentity = {};
  if (options.authorize) {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const verdict = await options.authorize({
      method: req.method ?? 'GET',
      path: queryAt >= 0 ? target.slice(0, queryAt) : target,
      search: queryAt >= 0 ? target.slice(queryAt + 1) : '',
      headers: req.headers,
      body,
    });
    if (!verdict.ok) {
      const refused = gatewayError(403, verdict.message);
      writeResult(res, { ...refused, headers: { ...refused.headers, 'x-amzn-ErrorType': verdict.type } });
      return;
    }
    identity = verdict.identity;
  }
  const event = toProxyEvent(req, body, options.stage ?? 'local');
  Object.assign(event.requestContext.identity, identity);
  let result: APIGatewayProxyResult;
  try {
    const requestId = event.requestContext.requestId;
    result = await store.run(requestId, () => handler(event, lambdaContext(requestId, options)));
    if (!isProxyResult(result)) throw new TypeError('the handler returned no statusCode');
  } catch (error) {
    options.onHandlerError?.(error);
    result = gatewayError(502, 'Internal server error');
  }
  writeResult(res, result);
}

export function toProxyEvent(req: IncomingMessage, body: Buffer, stage = 'local'): APIGatewayProxyEvent {
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  // rawHeaders keeps the client's header case, as API Gateway does.
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = value;
    const values = multiValueHeaders[name];
    if (values) values.push(value);
    else multiValueHeaders[name] = [value];
  }
  let query: Record<string, string> | null = null;
  let multiQuery: Record<string, string[]> | null = null;
  if (queryAt >= 0) {
    for (const [name, value] of new URLSearchParams(target.slice(queryAt + 1))) {
      query ??= {};
      multiQuery ??= {};
      query[name] = value;
      const values = multiQuery[name];
      if (values) values.push(value);
      else multiQuery[name] = [value];
    }
  }
  const method = req.method ?? 'GET';
  const path = decodePath(queryAt >= 0 ? target.slice(0, queryAt) : target);
  const requestId = randomUUID();
  const now = Date.now();
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: query,
    multiValueQueryStringParameters: multiQuery,
    pathParameters: { proxy: path.replace(/^\//, '') },
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'local',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${stage}${path}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: '/{proxy+}',
      stage,
    },
  };
}

export function lambdaContext(requestId: string, options: AdapterOptions = {}): Context {
  return new LocalLambdaContext(
    requestId,
    options.functionName ?? 'local-function',
    options.timeoutMs ?? 30_000,
  );
}

/** A class rather than an object literal of closures: one is built per request. */
class LocalLambdaContext implements Context {
  callbackWaitsForEmptyEventLoop = true;
  readonly functionVersion = '$LATEST';
  readonly memoryLimitInMB = '1024';
  readonly logStreamName = 'local';
  readonly invokedFunctionArn: string;
  readonly logGroupName: string;
  private readonly deadline: number;

  constructor(
    readonly awsRequestId: string,
    readonly functionName: string,
    timeoutMs: number,
  ) {
    this.invokedFunctionArn = `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`;
    this.logGroupName = `/aws/lambda/${functionName}`;
    this.deadline = Date.now() + timeoutMs;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  done(): void {}
  fail(): void {}
  succeed(): void {}
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  // A flat [name, value, ...] list: Node writes it without building a header map. As API
  // Gateway does, a name in multiValueHeaders takes its values from there only.
  const headers: string[] = [];
  for (const name in result.headers) {
    if (
      name.toLowerCase() === 'content-length' ||
      (result.multiValueHeaders && name in result.multiValueHeaders)
    )
      continue;
    headers.push(name, String(result.headers[name]));
  }
  for (const name in result.multiValueHeaders) {
    if (name.toLowerCase() === 'content-length') continue;
    for (const value of result.multiValueHeaders[name] ?? []) headers.push(name, String(value));
  }
  const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
  headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

function gatewayError(statusCode: number, message: string): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { statusCode?: unknown }).statusCode === 'number'
  );
}

let formattedSecond = -1;
let formattedTime = '';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * API Gateway's `requestTime` (`09/Apr/2015:12:34:56 +0000`) has one-second resolution: it is
 * formatted once a second, not per request.
 */
function requestTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== formattedSecond) {
    const d = new Date(epochMs);
    const two = (n: number) => String(n).padStart(2, '0');
    formattedSecond = second;
    formattedTime =
      `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
      `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  }
  return formattedTime;
}

/** API Gateway passes a path it cannot percent-decode through as it came. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

class PayloadTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new PayloadTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

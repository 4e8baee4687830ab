import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MlflowApiError,
  MlflowClient,
  type MlflowClientOptions,
  MlflowResponseError,
  MlflowUnavailableError,
  mlflowClientOptionsFromEnv,
} from '../../lambdas/core/mlflow';

// The client against a tiny in-process HTTP server that plays MLflow's part: each test scripts
// the answers, the server records what the client sent.

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

type Reply =
  | { readonly status: number; readonly json?: unknown; readonly text?: string }
  /** Never answer (for timeouts). */
  | 'hang'
  /** Drop the connection without an answer. */
  | 'reset';

interface FakeMlflow {
  readonly url: string;
  readonly requests: Recorded[];
}

const servers: Server[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function fakeMlflow(reply: (request: Recorded, index: number) => Reply): Promise<FakeMlflow> {
  const requests: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: performance.now(),
    };
    requests.push(recorded);
    const answer = reply(recorded, requests.length - 1);
    if (answer === 'hang') return;
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? '');
    res.writeHead(answer.status, {
      'content-type': answer.json !== undefined ? 'application/json' : 'text/plain',
    });
    res.end(body);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const EXPERIMENT = { experiment: { experiment_id: '7', name: 'iris', lifecycle_stage: 'active' } };
const fast = (url: string, extra: Partial<MlflowClientOptions> = {}): MlflowClient =>
  new MlflowClient({ trackingUri: url, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, ...extra });

describe('retries', () => {
  it('retries a 503 and a 500 and returns the answer of the third attempt', async () => {
    // Prepare
    const mlflow = await fakeMlflow((_, index) =>
      index === 0
        ? { status: 503, text: 'upstream connect error' }
        : index === 1
          ? { status: 500, json: { error_code: 'INTERNAL_ERROR', message: 'database is locked' } }
          : { status: 200, json: EXPERIMENT },
    );

    // Act
    const experiment = await fast(mlflow.url).getExperiment('7');

    // Assess
    expect(experiment.name).toBe('iris');
    expect(mlflow.requests).toHaveLength(3);
    expect(mlflow.requests.map((request) => request.url)).toEqual(
      Array(3).fill('/api/2.0/mlflow/experiments/get?experiment_id=7'),
    );
  });

  it('retries a connection dropped before the answer', async () => {
    const mlflow = await fakeMlflow((_, index) =>
      index === 0 ? 'reset' : { status: 200, json: EXPERIMENT },
    );

    const experiment = await fast(mlflow.url).getExperimentByName('iris');

    expect(experiment.experiment_id).toBe('7');
    expect(mlflow.requests).toHaveLength(2);
  });

  it('gives up on a 500 after the configured attempts with an MlflowApiError carrying the code', async () => {
    const mlflow = await fakeMlflow(() => ({
      status: 500,
      json: { error_code: 'INTERNAL_ERROR', message: 'boom' },
    }));

    const error = await fast(mlflow.url, { retry: { attempts: 4, baseDelayMs: 1 } })
      .getRun('abc')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MlflowApiError);
    expect(error).toMatchObject({ errorCode: 'INTERNAL_ERROR', status: 500, mlflowMessage: 'boom' });
    expect(mlflow.requests).toHaveLength(4);
  });

  it('waits between attempts, the wait doubling each time up to the cap', async () => {
    // Jitter pinned at its top, so each wait is exactly base·2^(n-1), capped.
    vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    const mlflow = await fakeMlflow(() => ({ status: 503, text: 'busy' }));

    await fast(mlflow.url, { retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 150 } })
      .getExperiment('7')
      .catch(() => undefined);

    const gaps = mlflow.requests
      .slice(1)
      .map((request, index) => request.at - (mlflow.requests[index]?.at ?? 0));
    expect(gaps).toHaveLength(3);
    // 100, then 200 capped to 150, then 400 capped to 150.
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(145);
    expect(gaps[2]).toBeGreaterThanOrEqual(145);
    expect(gaps[2]).toBeLessThan(350);
  });

  it('turns a 503 that outlives the retries into MlflowUnavailableError with the status', async () => {
    const mlflow = await fakeMlflow(() => ({ status: 503, text: 'Service Unavailable' }));

    const error = await fast(mlflow.url)
      .getExperiment('7')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MlflowUnavailableError);
    expect(error).toMatchObject({ attempts: 3, status: 503 });
  });

  it('turns connection refused into MlflowUnavailableError after every attempt', async () => {
    const port = await closedPort();

    const started = performance.now();
    const error = await fast(`http://127.0.0.1:${port}`, {
      retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 20 },
    })
      .getExperimentByName('iris')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MlflowUnavailableError);
    expect(error).toMatchObject({ attempts: 4, endpoint: 'GET /api/2.0/mlflow/experiments/get-by-name' });
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(((error as Error).cause as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('times out an attempt that gets no answer and retries it', async () => {
    const mlflow = await fakeMlflow(() => 'hang');

    const error = await fast(mlflow.url, { timeoutMs: 300, retry: { attempts: 2, baseDelayMs: 1 } })
      .getRun('abc')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MlflowUnavailableError);
    expect((error as Error).message).toMatch(/timed out|aborted/i);
    expect(error).toMatchObject({ attempts: 2 });
    // On a busy machine an attempt can time out before the server has read it.
    expect(mlflow.requests.length).toBeGreaterThanOrEqual(1);
  });

  it("stops at once, without retrying, when the caller's signal aborts", async () => {
    const mlflow = await fakeMlflow(() => 'hang');
    const controller = new AbortController();
    // Aborted once the request is on the server (a fixed delay can fire before it gets there on a busy machine).
    const arrived = setInterval(() => {
      if (mlflow.requests.length > 0) {
        clearInterval(arrived);
        controller.abort(new Error('lambda is out of time'));
      }
    }, 5);

    const error = await fast(mlflow.url, { retry: { attempts: 5, baseDelayMs: 1 } })
      .getRun('abc', { signal: controller.signal })
      .catch((e: unknown) => e);
    clearInterval(arrived);

    expect((error as Error).message).toBe('lambda is out of time');
    expect(mlflow.requests).toHaveLength(1);
  });
});

describe('error mapping', () => {
  it('turns a 404 with RESOURCE_DOES_NOT_EXIST into MlflowApiError, without retrying', async () => {
    const mlflow = await fakeMlflow(() => ({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Could not find experiment with name 'iris'" },
    }));

    const error = await fast(mlflow.url)
      .getExperimentByName('iris')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MlflowApiError);
    expect(error).toMatchObject({
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
      status: 404,
      mlflowMessage: "Could not find experiment with name 'iris'",
      endpoint: 'GET /api/2.0/mlflow/experiments/get-by-name',
      isNotFound: true,
    });
    expect(mlflow.requests).toHaveLength(1);
  });

  it('keeps RESOURCE_ALREADY_EXISTS and INVALID_PARAMETER_VALUE as MLflow sent them', async () => {
    const mlflow = await fakeMlflow((request) =>
      request.url.includes('create')
        ? {
            status: 400,
            json: {
              error_code: 'RESOURCE_ALREADY_EXISTS',
              message: 'Registered Model (name=iris) already exists.',
            },
          }
        : {
            status: 400,
            json: {
              error_code: 'INVALID_PARAMETER_VALUE',
              message: 'Registered model alias Production not found.',
            },
          },
    );
    const client = fast(mlflow.url);

    const exists = await client.createRegisteredModel({ name: 'iris' }).catch((e: unknown) => e);
    const noAlias = await client.getModelVersionByAlias('iris', 'Production').catch((e: unknown) => e);

    expect(exists).toMatchObject({
      errorCode: 'RESOURCE_ALREADY_EXISTS',
      status: 400,
      isAlreadyExists: true,
    });
    // MLflow 3 reports a missing alias as a bad parameter; isNotFound reads it as what it means.
    expect(noAlias).toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE', status: 400, isNotFound: true });
    expect(mlflow.requests).toHaveLength(2);
  });

  it('names the code MLflow uses for the status when the body is not MLflow JSON', async () => {
    const mlflow = await fakeMlflow(() => ({ status: 401, text: 'You are not authenticated.' }));

    const error = await fast(mlflow.url)
      .getRun('abc')
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      errorCode: 'UNAUTHENTICATED',
      status: 401,
      mlflowMessage: 'You are not authenticated.',
      isNotFound: false,
    });
  });

  it('does not read a 404 from a wrong URL as a missing resource', async () => {
    const mlflow = await fakeMlflow(() => ({
      status: 404,
      text: '<!doctype html><title>404 Not Found</title>',
    }));

    const error = await fast(mlflow.url)
      .getRegisteredModel('iris')
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ errorCode: 'ENDPOINT_NOT_FOUND', status: 404, isNotFound: false });
  });

  it('rejects a 200 whose body is not the shape MLflow documents', async () => {
    const mlflow = await fakeMlflow(() => ({ status: 200, json: { experiment: { name: 'iris' } } }));

    const error = await fast(mlflow.url)
      .getExperiment('7')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MlflowResponseError);
    expect((error as Error).message).toContain('experiment.experiment_id');
  });
});

describe('auth headers', () => {
  const answerRun = () => ({
    status: 200,
    json: {
      run: {
        info: {
          run_id: 'r1',
          experiment_id: '7',
          status: 'RUNNING',
          artifact_uri: 'mlflow-artifacts:/7/r1/artifacts',
        },
      },
    },
  });

  it('sends basic credentials from MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD', async () => {
    const mlflow = await fakeMlflow(answerRun);
    const client = new MlflowClient(
      mlflowClientOptionsFromEnv({
        MLFLOW_TRACKING_URI: mlflow.url,
        MLFLOW_TRACKING_USERNAME: 'admin',
        MLFLOW_TRACKING_PASSWORD: 'pä:ss',
      }),
    );

    await client.getRun('r1');

    expect(mlflow.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('admin:pä:ss', 'utf8').toString('base64')}`,
    );
  });

  it('sends a bearer token from MLFLOW_TRACKING_TOKEN', async () => {
    const mlflow = await fakeMlflow(answerRun);
    const client = MlflowClient.fromEnv({ MLFLOW_TRACKING_URI: mlflow.url, MLFLOW_TRACKING_TOKEN: 't0ken' });

    await client.getRun('r1');

    expect(mlflow.requests[0]?.headers.authorization).toBe('Bearer t0ken');
  });

  it('turns credentials in the tracking URI into basic auth (fetch refuses them in the URL)', async () => {
    const mlflow = await fakeMlflow(answerRun);
    const client = new MlflowClient({ trackingUri: mlflow.url.replace('http://', 'http://bob:s%40cret@') });

    await client.getRun('r1');

    expect(client.trackingUri).toBe(mlflow.url);
    expect(mlflow.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('bob:s@cret').toString('base64')}`,
    );
  });

  it('sends no authorization header without credentials', async () => {
    const mlflow = await fakeMlflow(answerRun);

    await new MlflowClient({ trackingUri: mlflow.url }).getRun('r1');

    expect(mlflow.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('requests as MLflow expects them', () => {
  it('splits a log batch of 2500 metrics, 250 params and 150 tags into three log-batch calls', async () => {
    const mlflow = await fakeMlflow(() => ({ status: 200, json: {} }));
    const metrics = Array.from({ length: 2500 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), step }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    const tags = Array.from({ length: 150 }, (_, i) => ({ key: `t${i}`, value: String(i) }));

    const calls = await fast(mlflow.url).logBatch({ run_id: 'r1', metrics, params, tags });

    expect(calls).toBe(3);
    const bodies = mlflow.requests.map(
      (request) =>
        JSON.parse(request.body) as {
          run_id: string;
          metrics: unknown[];
          params: unknown[];
          tags: unknown[];
        },
    );
    expect(mlflow.requests.every((request) => request.url === '/api/2.0/mlflow/runs/log-batch')).toBe(true);
    expect(mlflow.requests.every((request) => request.headers['content-type'] === 'application/json')).toBe(
      true,
    );
    expect(bodies.map((body) => [body.metrics.length, body.params.length, body.tags.length])).toEqual([
      [800, 100, 100],
      [850, 100, 50],
      [850, 50, 0],
    ]);
    expect(bodies.every((body) => body.run_id === 'r1')).toBe(true);
  });

  it('sends DELETE endpoints their parameters as a JSON body, which is where MLflow reads them', async () => {
    const mlflow = await fakeMlflow(() => ({ status: 200, json: {} }));

    await fast(mlflow.url).deleteRegisteredModelAlias('iris', 'Production');

    expect(mlflow.requests[0]).toMatchObject({
      method: 'DELETE',
      url: '/api/2.0/mlflow/registered-models/alias',
      body: JSON.stringify({ name: 'iris', alias: 'Production' }),
    });
  });

  it('puts an artifact through the proxy as raw bytes at its encoded path', async () => {
    const mlflow = await fakeMlflow(() => ({ status: 200, json: {} }));

    await fast(mlflow.url).writeArtifact(
      'mlflow-artifacts:/7/r1/artifacts',
      'model dir/MLmodel',
      'flavors: {}\n',
    );

    expect(mlflow.requests[0]).toMatchObject({
      method: 'PUT',
      url: '/api/2.0/mlflow-artifacts/artifacts/7/r1/artifacts/model%20dir/MLmodel',
      body: 'flavors: {}\n',
    });
    expect(mlflow.requests[0]?.headers['content-type']).toBe('application/octet-stream');
  });

  it('getOrCreateExperiment reads the winner when a concurrent creator got there first', async () => {
    let lookups = 0;
    const mlflow = await fakeMlflow((request) => {
      if (request.url.startsWith('/api/2.0/mlflow/experiments/get-by-name')) {
        lookups += 1;
        return lookups === 1
          ? { status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such experiment' } }
          : { status: 200, json: EXPERIMENT };
      }
      return {
        status: 400,
        json: { error_code: 'RESOURCE_ALREADY_EXISTS', message: "Experiment 'iris' already exists." },
      };
    });

    const experiment = await fast(mlflow.url).getOrCreateExperiment('iris');

    expect(experiment.experiment_id).toBe('7');
    expect(mlflow.requests.map((request) => `${request.method} ${request.url.split('?')[0]}`)).toEqual([
      'GET /api/2.0/mlflow/experiments/get-by-name',
      'POST /api/2.0/mlflow/experiments/create',
      'GET /api/2.0/mlflow/experiments/get-by-name',
    ]);
  });
});

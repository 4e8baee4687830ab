/**
 * `npm run serve` as a user runs it: a real process (one or SERVE_WORKERS of them) serving a
 * model registered in the shared MLflow and published to the serving bucket, its worker
 * supervision and its shutdown.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCallerFromEnv, authHeaders, callApi } from '../../localstack/serve/api-client';
import { ROOT } from '../../localstack/services/services';
import {
  freePort,
  killGroup,
  moveAlias,
  postPredict,
  registerIrisModels,
  SETOSA,
  serveCommand,
  sleep,
} from '../support/predict-fixtures';

const NAME = `serve-process-${Date.now().toString(36)}`;

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

const running: ChildProcess[] = [];

function startServe(env: Record<string, string>, port: number): Served {
  const { command, args } = serveCommand();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, MODEL_NAME: NAME, PORT: String(port), ...env },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, stderr: () => stderr, exited };
}

async function firstAnswer(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await postPredict(url, { instances: [SETOSA] })).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** POST /predict on a connection of its own (no keep-alive pool), answering the status code. */
async function statusOnNewConnection(url: string): Promise<number> {
  const body = JSON.stringify({ instances: [SETOSA] });
  const headers = await authHeaders(apiCallerFromEnv(), `${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/predict`, { method: 'POST', agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The node processes a process started (the cluster's workers; not tsx's esbuild service). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (Number(fields[1]) === pid && comm === 'node') children.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return children;
}

/** The node process under `tsx` (tsx runs node as its child). */
async function nodeUnderTsx(served: Served): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const [node] = childrenOf(served.child.pid ?? -1);
    if (node !== undefined) return node;
    await sleep(50);
  }
  throw new Error('tsx started no node process');
}

beforeAll(async () => {
  const trackingUri = process.env.MLFLOW_TRACKING_URI ?? '';
  const [versions] = await registerIrisModels([{ trackingUri, name: NAME, versions: [{}] }]);
  const v1 = versions?.[0];
  if (!v1) throw new Error('no version registered');
  await moveAlias(trackingUri, NAME, 'Production', v1.version);
});

afterAll(async () => {
  for (const child of running) await killGroup(child);
});

describe('npm run serve', () => {
  it('serves from one process by default and stops cleanly on SIGTERM', async () => {
    const served = startServe({}, await freePort());
    await firstAnswer(served.url);

    const answer = await postPredict(served.url, { instances: [SETOSA] });
    expect(answer.body.model).toMatchObject({ name: NAME, version: '1', alias: 'Production' });
    const node = await nodeUnderTsx(served);
    expect(childrenOf(node)).toEqual([]);

    process.kill(-(served.child.pid ?? 0), 'SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('runs SERVE_WORKERS processes on one port and replaces a worker that dies', async () => {
    const served = startServe({ SERVE_WORKERS: '2' }, await freePort());
    await firstAnswer(served.url);
    const primary = await nodeUnderTsx(served);
    const workers = childrenOf(primary);
    expect(workers).toHaveLength(2);
    expect(served.stderr()).toMatch(/predict API on http:\/\/127\.0\.0\.1:\d+ with 2 workers/);

    process.kill(workers[0] ?? -1, 'SIGKILL');
    await until(() => /worker \d+ ended \(SIGKILL\); starting another/.test(served.stderr()));
    // Connections the dead worker held are gone with it (as with any server process); new ones
    // are answered meanwhile, by the other worker or the replacement.
    for (let i = 0; i < 20; i++) {
      expect(await statusOnNewConnection(served.url)).toBe(200);
    }
    let replaced: number[] = [];
    for (let i = 0; i < 200 && replaced.length < 2; i++) {
      await sleep(100);
      replaced = childrenOf(primary);
    }
    expect(replaced).toHaveLength(2);
    expect(replaced).not.toContain(workers[0]);

    process.kill(-(served.child.pid ?? 0), 'SIGTERM');
    expect(await served.exited).toBe(0);
    expect(childrenOf(primary)).toEqual([]);
  });

  it('checks SigV4 on /predict, /invocations and /status as API Gateway does; /health, /ping and /openapi.json stay public', async () => {
    const served = startServe({}, await freePort());
    await firstAnswer(served.url);
    const body = JSON.stringify({ instances: [SETOSA] });
    const url = `${served.url}/predict`;
    const caller = apiCallerFromEnv();
    if (caller.mode !== 'iam') throw new Error('the local env signs with SigV4');

    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });

    const wrongSecret = await callApi(
      { ...caller, credentials: { ...caller.credentials, secretAccessKey: 'not-the-secret' } },
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body },
    );
    expect(wrongSecret.status).toBe(403);
    expect(wrongSecret.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');

    // Signed for one body, sent with another: the signature covers the payload.
    const headers = await authHeaders(caller, url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const tampered = await fetch(url, { method: 'POST', headers, body: body.replace('5.1', '7.7') });
    expect(tampered.status).toBe(403);

    const signed = await postPredict(served.url, { instances: [SETOSA] });
    expect(signed.status).toBe(200);
    expect((await callApi(caller, `${served.url}/status`)).status).toBe(200);
    expect((await fetch(`${served.url}/status`)).status).toBe(403);
    expect((await fetch(`${served.url}/health`)).status).toBe(200);
    expect((await fetch(`${served.url}/ping`)).status).toBe(200);
    expect((await fetch(`${served.url}/openapi.json`)).status).toBe(200);
    const invocation = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    expect((await fetch(`${served.url}/invocations`, invocation)).status).toBe(403);
    const invoked = await callApi(caller, `${served.url}/invocations`, invocation);
    expect(invoked.status).toBe(200);
    // A tensor-signature model: MLflow's answer is {output: array} (see the /invocations test).
    expect(await invoked.json()).toMatchObject({ predictions: { label: ['setosa'] } });

    // The command line the README shows, when this curl can sign (7.75 and later).
    const curl = spawnSync(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--aws-sigv4',
        `aws:amz:${caller.region}:execute-api`,
        '--user',
        `${caller.credentials.accessKeyId}:${caller.credentials.secretAccessKey}`,
        '-H',
        'content-type: application/json',
        '-d',
        body,
        url,
      ],
      { encoding: 'utf8' },
    );
    if (curl.error === undefined && !/unknown option|not supported/i.test(curl.stderr)) {
      expect(curl.stdout).toBe('200');
    }

    process.kill(-(served.child.pid ?? 0), 'SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('checks the API key instead with API_AUTH=api-key', async () => {
    const served = startServe({ API_AUTH: 'api-key', MLOPS_API_KEY: 'serve-test-key' }, await freePort());
    const keyed = { mode: 'api-key' as const, key: 'serve-test-key' };
    const body = JSON.stringify({ instances: [SETOSA] });
    const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    let answer = 0;
    for (let i = 0; i < 600 && answer !== 200; i++) {
      answer = await callApi(keyed, `${served.url}/predict`, request).then(
        (r) => r.status,
        () => 0,
      );
      if (answer !== 200) await sleep(100);
    }
    expect(answer).toBe(200);

    const wrong = await callApi({ mode: 'api-key', key: 'serve-test-kez' }, `${served.url}/predict`, request);
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ message: 'Forbidden' });
    expect((await fetch(`${served.url}/predict`, request)).status).toBe(403);
    expect((await fetch(`${served.url}/health`)).status).toBe(200);

    process.kill(-(served.child.pid ?? 0), 'SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('refuses a bad SERVE_WORKERS with one line naming it', async () => {
    const served = startServe({ SERVE_WORKERS: 'many' }, await freePort());

    expect(await served.exited).toBe(1);
    expect(served.stderr().trim()).toBe(
      `SERVE_WORKERS must be a whole number from 1 to 256, or 'auto' for one per CPU (got "many")`,
    );
  });

  it('stops with the worker’s exit code when workers cannot start', async () => {
    const served = startServe({ SERVE_WORKERS: '2', ALIAS_TTL_SECONDS: 'soon' }, await freePort());

    expect(await served.exited).toBe(1);
    expect(served.stderr()).toContain('ALIAS_TTL_SECONDS');
    expect(served.stderr()).not.toMatch(/\n\s+at /);
  });
});

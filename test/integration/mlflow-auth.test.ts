import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MlflowApiError, MlflowClient } from '../../lambdas/core/mlflow';
import { readMlflowCredentials } from '../../localstack/services/mlflow-auth';
import { requiresAuth } from '../../localstack/services/mlflow-server';
import { mlops } from '../support/entry-point';

// The real local MLflow, started by global-setup with the basic-auth app: its users as the
// pipelines (MLFLOW_TRACKING_USERNAME from up()), the reader and the admin use them.
const env = inject('localEnv');
const uri = env.MLFLOW_TRACKING_URI;
const stored = readMlflowCredentials();
if (!stored) throw new Error('global-setup left no mlflow-auth.json in MLOPS_LOCAL_DIR');
const credentials = stored;
const suffix = randomUUID().slice(0, 8);

const pipelines = MlflowClient.fromEnv({ ...env });
const as = (username: string, password: string) =>
  new MlflowClient({ trackingUri: uri, auth: { type: 'basic', username, password }, retry: { attempts: 1 } });
const reader = as('reader', credentials.readerPassword);
const admin = as('admin', credentials.adminPassword);

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A run of `client`'s in its own experiment: sources of versions must belong to a run. */
async function runOf(client: MlflowClient, name: string) {
  const experiment = await client.getOrCreateExperiment(`auth-it-${name}`);
  return client.createRun({ experiment_id: experiment.experiment_id, start_time: Date.now() });
}

/** A model with two versions (from a run) and Production on v1, created by `client`. */
async function modelWithVersions(client: MlflowClient, name: string): Promise<void> {
  const run = await runOf(client, name);
  await client.createRegisteredModel({ name });
  for (let v = 1; v <= 2; v++) {
    await client.createModelVersion({
      name,
      source: `${run.info.artifact_uri}/model`,
      run_id: run.info.run_id,
    });
  }
  await client.setRegisteredModelAlias(name, 'Production', '1');
}

async function statusOf(work: Promise<unknown>): Promise<number> {
  try {
    await work;
    return 200;
  } catch (error) {
    if (error instanceof MlflowApiError) return error.status;
    throw error;
  }
}

describe('the local MLflow with basic auth', () => {
  it('hands out the pipelines user in the environment up() returns', () => {
    expect(env.MLFLOW_TRACKING_USERNAME).toBe('pipelines');
    expect(env.MLFLOW_TRACKING_PASSWORD).toBe(credentials.pipelinesPassword);
  });

  it('answers 401 with a basic-auth challenge to a call without credentials, and /health without', async () => {
    const anonymous = await fetch(`${uri}/api/2.0/mlflow/registered-models/search?max_results=1`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="mlflow"');
    expect((await fetch(`${uri}/health`)).status).toBe(200);
    expect(await requiresAuth(uri)).toBe(true);
  });

  it('answers 401 to a wrong password', async () => {
    const wrong = await fetch(`${uri}/api/2.0/mlflow/registered-models/search?max_results=1`, {
      headers: { authorization: basic('pipelines', 'not-the-password-at-all') },
    });
    expect(wrong.status).toBe(401);
    expect(await statusOf(as('reader', 'not-the-password-at-all').searchRegisteredModels())).toBe(401);
  });

  it('lets the pipelines user create a model and move its alias (200), and the reader read it but not move it (403)', async () => {
    const name = `auth-it-${suffix}`;
    await modelWithVersions(pipelines, name);
    expect(await statusOf(pipelines.setRegisteredModelAlias(name, 'Production', '2'))).toBe(200);

    expect((await reader.getModelVersionByAlias(name, 'Production')).version).toBe('2');
    expect(await statusOf(reader.setRegisteredModelAlias(name, 'Production', '1'))).toBe(403);
    expect(await statusOf(reader.deleteRegisteredModelAlias(name, 'Production'))).toBe(403);
    const run = await runOf(pipelines, name);
    expect(
      await statusOf(
        reader.createModelVersion({ name, source: `${run.info.artifact_uri}/m`, run_id: run.info.run_id }),
      ),
    ).toBe(403);
    expect((await pipelines.getModelVersionByAlias(name, 'Production')).version).toBe('2');
  });

  it('lets the pipelines user move the alias of a model someone else created', async () => {
    const name = `auth-it-admin-${suffix}`;
    await modelWithVersions(admin, name);
    expect(await statusOf(pipelines.setRegisteredModelAlias(name, 'Production', '2'))).toBe(200);
    expect(await statusOf(pipelines.deleteRegisteredModelAlias(name, 'Production'))).toBe(200);
  });

  it('sends the credentials on artifact uploads and downloads through the proxy', async () => {
    const run = await runOf(pipelines, `artifacts-${suffix}`);
    const base = run.info.artifact_uri.replace('mlflow-artifacts:/', '');
    await pipelines.uploadArtifact(`${base}/note.txt`, 'through the proxy');
    expect(new TextDecoder().decode(await reader.downloadArtifact(`${base}/note.txt`))).toBe(
      'through the proxy',
    );
    const anonymous = await fetch(`${uri}/api/2.0/mlflow-artifacts/artifacts/${base}/note.txt`);
    expect(anonymous.status).toBe(401);
    expect(await statusOf(reader.uploadArtifact(`${base}/reader.txt`, 'no'))).toBe(403);
  });
});

describe('mlops mlflow user add', () => {
  it('creates a reader who can log in and read, but not move an alias; --role writer then can', async () => {
    const person = `person-${suffix}`;
    const added = await mlops(['mlflow', 'user', 'add', person, '--role', 'reader', '--json']);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stderr).toContain(`mlflow user ${person} (reader): created`);
    const result = JSON.parse(added.stdout.trim().split('\n').at(-1) ?? '') as Record<string, string>;
    expect(result).toMatchObject({ username: person, role: 'reader', url: uri });
    const password = result.password ?? '';
    expect(password.length).toBeGreaterThanOrEqual(12);

    const current = await fetch(`${uri}/api/2.0/mlflow/users/current`, {
      headers: { authorization: basic(person, password) },
    });
    expect(current.status).toBe(200);
    expect(await current.json()).toMatchObject({ user: { username: person, is_admin: false } });

    const name = `auth-it-person-${suffix}`;
    await modelWithVersions(pipelines, name);
    const personClient = as(person, password);
    expect((await personClient.getRegisteredModel(name)).name).toBe(name);
    expect(await statusOf(personClient.setRegisteredModelAlias(name, 'Production', '2'))).toBe(403);

    const promoted = await mlops(['mlflow', 'user', 'add', person, '--role', 'writer', '--json']);
    expect(promoted.status, promoted.stderr).toBe(0);
    expect(promoted.stderr).toContain(`mlflow user ${person} (writer): exists, password updated`);
    const newPassword = (JSON.parse(promoted.stdout.trim().split('\n').at(-1) ?? '') as { password: string })
      .password;
    expect(await statusOf(as(person, newPassword).setRegisteredModelAlias(name, 'Production', '2'))).toBe(
      200,
    );
  });

  it('refuses a role it does not know, naming the option', async () => {
    const result = await mlops(['mlflow', 'user', 'add', `x-${suffix}`, '--role', 'admin']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--role must be reader or writer, got "admin"');
  });
});

describe('requiresAuth', () => {
  let server: Server;
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('tells a server without auth (200 to an anonymous call) from one with it', async () => {
    let status = 200;
    server = createServer((_req, res) => {
      res.statusCode = status;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await requiresAuth(url)).toBe(false);
    status = 401;
    expect(await requiresAuth(url)).toBe(true);
  });
});

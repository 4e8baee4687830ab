import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { localDir, pidFile } from '../../localstack/services/local-paths';
import { readEnvFile } from '../../localstack/services/services';

// The foundation's promise: every local service is real and wired to the others. These talk to
// them over plain HTTP / the Postgres wire protocol, without the project's own clients.
const env = inject('localEnv');
const aws = {
  endpoint: env.AWS_ENDPOINT_URL,
  region: env.AWS_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
};
const s3 = new S3Client(aws);
const ses = new SESv2Client(aws);

afterAll(() => {
  s3.destroy();
  ses.destroy();
});

// The pipelines' user `up()` hands out: the local MLflow runs with basic auth.
const authorization = `Basic ${Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD}`).toString('base64')}`;

async function mlflow<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${env.MLFLOW_TRACKING_URI}/api/2.0/mlflow/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
}

describe('local services', () => {
  it('writes the endpoints and the pipelines credentials to .local/env (mode 0600) for scripts to source', () => {
    expect(readEnvFile()).toMatchObject({
      MLFLOW_TRACKING_URI: env.MLFLOW_TRACKING_URI,
      AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
      DATABASE_URL: env.DATABASE_URL,
      MLFLOW_TRACKING_USERNAME: 'pipelines',
      MLFLOW_TRACKING_PASSWORD: env.MLFLOW_TRACKING_PASSWORD,
    });
    expect(statSync(join(localDir(), 'env')).mode & 0o777).toBe(0o600);
  });

  it('creates an MLflow experiment and run over REST, and stores an artifact in S3 through the proxy', async () => {
    const name = `foundation-${randomUUID()}`;
    const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name });
    const { run } = await mlflow<{ run: { info: { run_id: string; artifact_uri: string } } }>('runs/create', {
      experiment_id,
      start_time: Date.now(),
    });
    await mlflow('runs/log-metric', {
      run_id: run.info.run_id,
      key: 'accuracy',
      value: 0.97,
      timestamp: Date.now(),
    });

    // mlflow-artifacts:/<experiment>/<run>/artifacts → PUT through the server's artifact proxy.
    expect(run.info.artifact_uri).toMatch(/^mlflow-artifacts:\//);
    const artifactPath = `${run.info.artifact_uri.replace('mlflow-artifacts:/', '')}/notes/hello.txt`;
    const put = await fetch(`${env.MLFLOW_TRACKING_URI}/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, {
      method: 'PUT',
      headers: { authorization },
      body: 'hello from the foundation test',
    });
    expect(put.status).toBe(200);

    const object = await s3.send(
      new GetObjectCommand({ Bucket: env.MLFLOW_ARTIFACTS_BUCKET, Key: artifactPath }),
    );
    expect(await object.Body?.transformToString()).toBe('hello from the foundation test');

    const fetched = await mlflow<{ run: { data: { metrics: { key: string; value: number }[] } } }>(
      `runs/get?run_id=${run.info.run_id}`,
    );
    expect(fetched.run.data.metrics).toContainEqual(
      expect.objectContaining({ key: 'accuracy', value: 0.97 }),
    );
  });

  it('keeps MLflow tables in the project Postgres database', () => {
    const url = new URL(env.DATABASE_URL);
    const result = spawnSync(
      'psql',
      [
        '-h',
        url.hostname,
        '-p',
        url.port,
        '-U',
        url.username,
        '-d',
        url.pathname.slice(1),
        '-tAc',
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
      ],
      { encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    const tables = result.stdout.trim().split('\n');
    expect(tables).toEqual(
      expect.arrayContaining(['experiments', 'runs', 'metrics', 'registered_models', 'model_versions']),
    );
  });

  it('delivers an e-mail sent through SESv2 to the local mailbox', async () => {
    const sender = `alerts-${randomUUID().slice(0, 8)}@example.com`;
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: sender }));
    const sent = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: sender,
        Destination: { ToAddresses: ['data-science@example.com'] },
        Content: {
          Simple: {
            Subject: { Data: 'Drift alert: share_drifted 0.40' },
            Body: { Text: { Data: 'over 0.20' } },
          },
        },
      }),
    );

    const res = await fetch(`${env.AWS_ENDPOINT_URL}/_aws/ses?email=${encodeURIComponent(sender)}`);
    const { messages } = (await res.json()) as {
      messages: {
        Id: string;
        Subject: string;
        Body: { text_part: string };
        Destination: { ToAddresses: string[] };
      }[];
    };
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      Id: sent.MessageId,
      Subject: 'Drift alert: share_drifted 0.40',
      Body: { text_part: 'over 0.20' },
      Destination: { ToAddresses: ['data-science@example.com'] },
    });
  });
});

describe('the local MLflow server', () => {
  /** Every process under the server `local up` started, as `args` lines. */
  function descendants(root: number): string[] {
    const table = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    const rows = table.map((line) => {
      const [pid, ppid, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), args: args.join(' ') };
    });
    const found: string[] = [];
    const queue = [root];
    while (queue.length > 0) {
      const parent = queue.shift() as number;
      for (const row of rows.filter((r) => r.ppid === parent)) {
        found.push(row.args);
        queue.push(row.pid);
      }
    }
    return found;
  }

  it('runs its web workers and no job runner (MLFLOW_SERVER_ENABLE_JOB_EXECUTION off)', () => {
    const pid = Number(readFileSync(pidFile('mlflow'), 'utf8'));
    const processes = descendants(pid);
    expect(processes.some((args) => args.includes('uvicorn') || args.includes('gunicorn'))).toBe(true);
    expect(processes.filter((args) => /huey|_job_runner/.test(args))).toEqual([]);
  });
});

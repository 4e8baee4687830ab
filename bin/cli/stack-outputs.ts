/**
 * One output of a deployed CloudFormation stack (`DescribeStacks`), for commands that find a
 * resource of the stack by its output (`mlops history --aws`: ServingBucket). A signed query-API
 * call over `fetch`: the project does not depend on @aws-sdk/client-cloudformation. Region and
 * credentials from the AWS SDK's chain; AWS_ENDPOINT_URL_CLOUDFORMATION / AWS_ENDPOINT_URL for an
 * emulator.
 */
import { createHash, createHmac } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { CliError } from './output';

export async function stackOutput(stackName: string, outputKey: string, env = process.env): Promise<string> {
  const probe = new S3Client({});
  let region: string;
  try {
    region = env.AWS_REGION?.trim() || (await probe.config.region());
  } catch {
    throw new CliError('no AWS region: set AWS_REGION (or a profile with a region)', 2);
  } finally {
    probe.destroy();
  }
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const endpoint =
    env.AWS_ENDPOINT_URL_CLOUDFORMATION?.trim() ||
    env.AWS_ENDPOINT_URL?.trim() ||
    `https://cloudformation.${region}.amazonaws.com`;
  const url = new URL(endpoint);
  const body = new URLSearchParams({
    Action: 'DescribeStacks',
    StackName: stackName,
    Version: '2010-05-15',
  }).toString();
  const signer = new SignatureV4({
    service: 'cloudformation',
    region,
    credentials: defaultProvider(),
    sha256: Sha256,
  });
  let text: string;
  let status: number;
  try {
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
      signal: AbortSignal.timeout(15_000),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new CliError(`DescribeStacks ${stackName} at ${url.origin}: ${(error as Error).message}`);
  }
  if (status !== 200) {
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
    throw new CliError(`DescribeStacks ${stackName}: HTTP ${status}: ${message}`, status === 400 ? 2 : 1);
  }
  const value = outputValue(text, outputKey);
  if (value === undefined) {
    throw new CliError(
      `the stack ${stackName} has no output ${outputKey}: deploy a version of the stack that has one`,
      2,
    );
  }
  return value;
}

/** The value of the output `key` in a DescribeStacks XML answer. */
export function outputValue(xml: string, key: string): string | undefined {
  const outputs = /<Outputs>([\s\S]*?)<\/Outputs>/.exec(xml)?.[1] ?? '';
  for (const member of outputs.match(/<member>[\s\S]*?<\/member>/g) ?? []) {
    if (/<OutputKey>([^<]*)<\/OutputKey>/.exec(member)?.[1] === key) {
      return unescapeXml(/<OutputValue>([^<]*)<\/OutputValue>/.exec(member)?.[1] ?? '');
    }
  }
  return undefined;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    throw new Error('not used by SignatureV4');
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * Every container image the repository builds from or runs (Dockerfile FROM lines, compose
 * `image:` keys) is pinned by digest or by an exact release tag: a floating tag (`postgres:15`,
 * `node:22-bookworm-slim`, `latest`, none) would change what runs without a change here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/mlops-function';

const SKIPPED_DIRECTORIES = new Set([
  'node_modules',
  '.git',
  '.venv',
  '.local',
  'cdk.out',
  'dist',
  'coverage',
]);

function repositoryFiles(directory: string = PROJECT_ROOT): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) {
      return SKIPPED_DIRECTORIES.has(entry.name) ? [] : repositoryFiles(join(directory, entry.name));
    }
    return [join(directory, entry.name)];
  });
}

interface ImageUse {
  readonly file: string;
  readonly line: number;
  readonly image: string;
}

/** The FROM images of a Dockerfile, with `${ARG}`s replaced by their defaults; earlier stages are not images. */
function dockerfileImages(file: string, text: string): ImageUse[] {
  const args = new Map<string, string>();
  const stages = new Set<string>();
  const uses: ImageUse[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S+))?$/i.exec(line);
    if (arg?.[1] && arg[2] !== undefined) args.set(arg[1], arg[2].replace(/^["']|["']$/g, ''));
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (!from?.[1]) return;
    const image = from[1].replace(
      /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
      (_, name: string) => args.get(name) ?? `\${${name}}`,
    );
    if (!stages.has(image) && image !== 'scratch') uses.push({ file, line: index + 1, image });
    if (from[2]) stages.add(from[2]);
  });
  return uses;
}

/** The `image:` values of a compose (or any YAML) file. */
function composeImages(file: string, text: string): ImageUse[] {
  return text.split('\n').flatMap((raw, index) => {
    const match = /^\s*image:\s*["']?([^"'\s#]+)["']?\s*(#.*)?$/.exec(raw);
    return match?.[1] ? [{ file, line: index + 1, image: match[1] }] : [];
  });
}

/**
 * Why an image reference floats, or undefined when it is pinned: a digest, or a tag that names one
 * release (`4.10.0`, `v3.17.2`, `22.23.3-bookworm-slim`; Postgres numbers its releases `16.10`).
 */
function floating(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  if (image.includes('${')) return 'its tag comes from a build argument without a default';
  const slash = image.lastIndexOf('/');
  const colon = image.indexOf(':', slash + 1);
  if (colon < 0) return 'no tag (latest)';
  const name = image.slice(0, colon);
  const tag = image.slice(colon + 1);
  const version = /^v?(\d+(?:\.\d+)*)(?:-[A-Za-z0-9.-]+)?$/.exec(tag)?.[1];
  if (!version) return `tag '${tag}' is not a release number`;
  const parts = version.split('.').length;
  const needed = /(^|\/)postgres$/.test(name) ? 2 : 3;
  return parts >= needed ? undefined : `tag '${tag}' names a release line, not one release`;
}

describe('container image pins', () => {
  const files = repositoryFiles();
  const uses = files.flatMap((path) => {
    const file = relative(PROJECT_ROOT, path);
    const name = path.split('/').pop() ?? '';
    if (/^Dockerfile/.test(name)) return dockerfileImages(file, readFileSync(path, 'utf8'));
    if (/\.ya?ml$/.test(name)) return composeImages(file, readFileSync(path, 'utf8'));
    return [];
  });

  it('finds the images of the Dockerfiles and the compose file', () => {
    const found = new Set(uses.map((use) => use.file));
    for (const file of [
      'docker/mlflow/Dockerfile',
      'docker/trainer/Dockerfile',
      'localstack/deploy/compose.yml',
    ]) {
      expect(found, file).toContain(file);
    }
  });

  it('pins every one by digest or exact release', () => {
    const loose = uses.flatMap((use) => {
      const why = floating(use.image);
      return why ? [`${use.file}:${use.line} ${use.image}: ${why}`] : [];
    });
    expect(loose).toEqual([]);
  });

  it('tells a floating tag from a pinned one', () => {
    for (const pinned of [
      'postgres:15.14-bookworm',
      'public.ecr.aws/docker/library/postgres:16.10',
      'localstack/localstack:4.10.0',
      'ghcr.io/mlflow/mlflow:v3.17.2',
      'public.ecr.aws/docker/library/node:22.23.3-bookworm-slim',
      `node@sha256:${'a'.repeat(64)}`,
      'localhost:5000/tools/app:1.2.3',
    ]) {
      expect(floating(pinned), pinned).toBeUndefined();
    }
    for (const loose of [
      'postgres',
      'postgres:15',
      'postgres:latest',
      'localstack/localstack:4',
      'node:22-bookworm-slim',
      'node:22.23',
      'localhost:5000/tools/app',
      'ghcr.io/mlflow/mlflow:v\u0024{MLFLOW_VERSION}',
    ]) {
      expect(floating(loose), loose).toBeDefined();
    }
  });

  it("reads a Dockerfile's FROM through its ARG defaults and skips its own stages", () => {
    const text = [
      'ARG MLFLOW_VERSION=3.17.2',
      'FROM ghcr.io/mlflow/mlflow:v\u0024{MLFLOW_VERSION} AS base',
      'FROM base',
      'FROM --platform=linux/arm64 node:22',
    ].join('\n');
    expect(dockerfileImages('Dockerfile', text).map((use) => use.image)).toEqual([
      'ghcr.io/mlflow/mlflow:v3.17.2',
      'node:22',
    ]);
    expect(composeImages('compose.yml', 'services:\n  db:\n    image: "postgres:15" # comment\n')).toEqual([
      { file: 'compose.yml', line: 3, image: 'postgres:15' },
    ]);
  });
});

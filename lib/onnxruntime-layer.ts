import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './mlops-function';

export interface OnnxRuntimeLayerProps {
  /** The only architecture whose native binaries the layer carries. */
  readonly architecture: lambda.Architecture;
  /** Where onnxruntime-node and onnxruntime-common are installed. @default <repo>/node_modules */
  readonly nodeModulesDir?: string;
}

/**
 * onnxruntime-node as a Lambda layer (`/opt/nodejs/node_modules`), built at synth time by copying
 * the installed package — no Docker, no download — and keeping only the target architecture's
 * Linux binaries: the package ships darwin, win32 and both Linux builds (≈290 MB), far over
 * Lambda's 250 MB unzipped limit; one Linux build is ≈50 MB. Functions using it mark
 * `onnxruntime-node` external.
 */
export class OnnxRuntimeLayer extends Construct {
  readonly layer: lambda.LayerVersion;
  /** The installed onnxruntime-node version the layer was built from. */
  readonly version: string;

  constructor(scope: Construct, id: string, props: OnnxRuntimeLayerProps) {
    super(scope, id);
    const nodeModules = props.nodeModulesDir ?? join(PROJECT_ROOT, 'node_modules');
    const packageJson = join(nodeModules, 'onnxruntime-node', 'package.json');
    if (!existsSync(packageJson)) {
      throw new Error(
        `OnnxRuntimeLayerProps.nodeModulesDir has no onnxruntime-node (looked for ${packageJson})`,
      );
    }
    this.version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
    const arch = props.architecture === lambda.Architecture.ARM_64 ? 'arm64' : 'x64';

    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `onnxruntime-node ${this.version}, linux-${arch} binaries only`,
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      compatibleArchitectures: [props.architecture],
      code: lambda.Code.fromAsset(nodeModules, {
        // The installed version and architecture determine the content; hashing ≈290 MB of
        // sources on every synth would only slow it down. Bump LAYOUT when the copy rules change.
        assetHashType: AssetHashType.CUSTOM,
        assetHash: `onnxruntime-node-${this.version}-linux-${arch}-${LAYOUT}`,
        bundling: {
          // Fallback only: the local copy below always succeeds where node_modules is installed.
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
          command: ['bash', '-c', dockerCopyCommand(arch)],
          local: {
            tryBundle(outputDir: string): boolean {
              copyRuntime(nodeModules, join(outputDir, 'nodejs', 'node_modules'), arch);
              return true;
            },
          },
        },
      }),
    });
  }
}

const LAYOUT = 'v1';

/**
 * Copies what `require('onnxruntime-node')` loads at run time: its package.json, dist/ and one
 * `bin/napi-v*\/linux/<arch>` directory, plus onnxruntime-common. Its other dependencies
 * (adm-zip, global-agent) serve only the install script.
 */
export function copyRuntime(nodeModules: string, target: string, arch: 'x64' | 'arm64'): void {
  const source = join(nodeModules, 'onnxruntime-node');
  const destination = join(target, 'onnxruntime-node');
  mkdirSync(destination, { recursive: true });
  cpSync(join(source, 'package.json'), join(destination, 'package.json'));
  cpSync(join(source, 'dist'), join(destination, 'dist'), { recursive: true });
  const napiDirs = readdirSync(join(source, 'bin')).filter((name) => name.startsWith('napi-v'));
  for (const napi of napiDirs) {
    const binaries = join(source, 'bin', napi, 'linux', arch);
    if (!existsSync(binaries)) continue;
    cpSync(binaries, join(destination, 'bin', napi, 'linux', arch), { recursive: true });
  }
  if (!napiDirs.some((napi) => existsSync(join(source, 'bin', napi, 'linux', arch)))) {
    throw new Error(`onnxruntime-node in ${nodeModules} has no linux/${arch} binaries`);
  }
  cpSync(join(nodeModules, 'onnxruntime-common'), join(target, 'onnxruntime-common'), { recursive: true });
}

function dockerCopyCommand(arch: 'x64' | 'arm64'): string {
  const out = '/asset-output/nodejs/node_modules';
  return [
    `mkdir -p ${out}/onnxruntime-node`,
    `cp -r /asset-input/onnxruntime-node/package.json /asset-input/onnxruntime-node/dist ${out}/onnxruntime-node/`,
    `for d in /asset-input/onnxruntime-node/bin/napi-v*; do mkdir -p ${out}/onnxruntime-node/bin/$(basename $d)/linux && cp -r $d/linux/${arch} ${out}/onnxruntime-node/bin/$(basename $d)/linux/; done`,
    `cp -r /asset-input/onnxruntime-common ${out}/`,
  ].join(' && ');
}

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeRule, acknowledgeWildcards } from './nag-acknowledgements';
import { PRIVATE_SUBNET_GROUP } from './network';

/** The repository root: entries, the lock file and tsconfig.json are resolved from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Namespace of every custom metric the functions emit (Powertools EMF). */
export const METRICS_NAMESPACE = 'ServerlessMlops';

/** An MLflow basic-auth user: its name, and the secret (`{"username","password"}`) holding its password. */
export interface MlflowUserSecret {
  readonly username: string;
  readonly secret: secretsmanager.ISecret;
}

/** How a function reaches the MLflow tracking server: from inside the VPC, through its client security group. */
export interface MlflowAccess {
  readonly vpc: ec2.IVpc;
  /** The security group the MLflow load balancer admits. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** `http://<internal ALB DNS name>` (or `https://<domain>` with a certificate). */
  readonly trackingUri: string;
  /** The pipelines' user (runs, versions, aliases). Absent: the server asks for no credentials. */
  readonly writerCredentials?: MlflowUserSecret;
  /** The read-only user. Absent: the server asks for no credentials. */
  readonly readerCredentials?: MlflowUserSecret;
  /**
   * The admin: only for what MLflow's auth app reserves to admins (webhooks). Absent: no function
   * may act as admin (an emulator's local MLflow, whose admin password the stack is not given).
   */
  readonly adminCredentials?: MlflowUserSecret;
  /** An emulator's local MLflow user, given to every function as it is (no Secrets Manager there). */
  readonly plainCredentials?: { readonly username: string; readonly password: string };
}

export interface MlopsFunctionProps {
  /** Handler file relative to the repository root, e.g. `lambdas/steps/handlers/ingest-data.ts`; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** POWERTOOLS_SERVICE_NAME: the `service` key of logs and the `service` dimension of metrics. */
  readonly serviceName: string;
  /** Chosen by the stage config on purpose: native layers (onnxruntime) must match it. */
  readonly architecture: lambda.Architecture;
  readonly logRetention: logs.RetentionDays;
  /**
   * Puts the function in the VPC's private subnets with the MLflow client security group and sets
   * MLFLOW_TRACKING_URI.
   * @default no VPC and no MLflow access
   */
  readonly mlflow?: MlflowAccess;
  /**
   * Which MLflow user the function authenticates as: `writer` (the pipelines' user), `reader`
   * (read-only: the serving manifests' webhook and reconciler) or `admin` (the webhook
   * registration: MLflow lets only admins manage webhooks). It gets MLFLOW_TRACKING_USERNAME and
   * MLFLOW_TRACKING_PASSWORD_SECRET_ARN, read at cold start (lambdas/core/mlflow/secret-password.ts),
   * and may read only that secret.
   * @default 'writer'
   */
  readonly mlflowRole?: 'writer' | 'reader' | 'admin';
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Merged over the defaults (Powertools settings, MLFLOW_TRACKING_URI, NODE_OPTIONS). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default none */
  readonly layers?: lambda.ILayerVersion[];
  /** Packages a layer provides, left out of the bundle. @default [] (everything is bundled, the AWS SDK too) */
  readonly externalModules?: string[];
  /** @default RemovalPolicy.DESTROY (for the log group) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The defaults every Lambda of the project needs, in one place: Node.js 22 ESM bundle built by
 * esbuild, the configured architecture, an explicit log group with retention, active tracing,
 * Powertools settings, and its own role holding only what the function is granted (no AWS
 * managed policies: the VPC and logging permissions are written out below).
 */
export class MlopsFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The handler file, absolute. */
  readonly entry: string;
  /** How esbuild bundles the entry (test/cdk/bundling.test.ts bundles every function with it). */
  readonly bundling: BundlingOptions;
  /** The layers the function gets (what its `bundling.externalModules` come from). */
  readonly layers: readonly lambda.ILayerVersion[];

  constructor(scope: Construct, id: string, props: MlopsFunctionProps) {
    super(scope, id);
    validateProps(props);
    this.entry = join(PROJECT_ROOT, props.entry);
    this.bundling = bundlingOptions(props.externalModules ?? []);
    this.layers = props.layers ?? [];

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup.grantWrite(this.role);
    if (props.mlflow) {
      // What AWSLambdaVPCAccessExecutionRole grants; ENI calls have no resource-level scoping.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    const mlflowUser =
      props.mlflowRole === 'reader'
        ? props.mlflow?.readerCredentials
        : props.mlflowRole === 'admin'
          ? props.mlflow?.adminCredentials
          : props.mlflow?.writerCredentials;
    mlflowUser?.secret.grantRead(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: this.entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      layers: props.layers,
      ...(props.mlflow
        ? {
            vpc: props.mlflow.vpc,
            vpcSubnets: { subnetGroupName: PRIVATE_SUBNET_GROUP },
            securityGroups: [props.mlflow.clientSecurityGroup],
          }
        : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.mlflow ? { MLFLOW_TRACKING_URI: props.mlflow.trackingUri } : {}),
        ...(mlflowUser
          ? {
              MLFLOW_TRACKING_USERNAME: mlflowUser.username,
              MLFLOW_TRACKING_PASSWORD_SECRET_ARN: mlflowUser.secret.secretArn,
            }
          : {}),
        ...(props.mlflow?.plainCredentials
          ? {
              MLFLOW_TRACKING_USERNAME: props.mlflow.plainCredentials.username,
              MLFLOW_TRACKING_PASSWORD: props.mlflow.plainCredentials.password,
            }
          : {}),
        ...props.environment,
      },
      bundling: this.bundling,
    });

    acknowledgeRule(
      this.function,
      'L1',
      'Node.js 22 on purpose: the toolchain (package.json engines), the tests and the onnxruntime-node layer are built and tested on it; move to a newer runtime together with them.',
    );
    acknowledgeWildcards(
      this.role,
      { resources: ['*'] },
      'X-Ray PutTraceSegments/PutTelemetryRecords and, in the VPC, the ENI actions of AWSLambdaVPCAccessExecutionRole support no resource-level permissions.',
    );
  }
}

/**
 * Node.js 22 ES module, minified, with source maps. Only the given packages stay out of the
 * bundle: the AWS SDK is bundled too (the version tested, not the runtime's), so a package left
 * out must come from a layer — and a package nobody left out is bundled, native parts included.
 */
function bundlingOptions(externalModules: readonly string[]): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    // CommonJS dependencies bundled into an ES module still call require().
    banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    externalModules: [...externalModules],
  };
}

function validateProps(props: MlopsFunctionProps): void {
  if (!/^(lambdas)\/.+\.ts$/.test(props.entry)) {
    throw new Error(`MlopsFunctionProps.entry must be a .ts file under lambdas/ (got '${props.entry}')`);
  }
  if (!/^[a-z0-9-]{1,64}$/.test(props.serviceName)) {
    throw new Error(
      `MlopsFunctionProps.serviceName must be lowercase kebab-case (got '${props.serviceName}')`,
    );
  }
  if ((props.externalModules ?? []).length > 0 && (props.layers ?? []).length === 0) {
    // Left out of the bundle and in no layer: the handler would fail at its first import.
    throw new Error(
      `MlopsFunctionProps.externalModules (${props.externalModules?.join(', ')}) needs the layers that provide them`,
    );
  }
  if (props.memorySize !== undefined && (props.memorySize < 128 || props.memorySize > 10_240)) {
    throw new Error(`MlopsFunctionProps.memorySize must be 128-10240 MB (got ${props.memorySize})`);
  }
  if (props.timeout !== undefined && props.timeout.toSeconds() > 900) {
    throw new Error(
      `MlopsFunctionProps.timeout must be at most 15 minutes (got ${props.timeout.toHumanString()})`,
    );
  }
}

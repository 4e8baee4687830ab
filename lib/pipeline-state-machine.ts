import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from './nag-acknowledgements';
import { placeholdersIn } from './state-machine-substitutions';

export interface PipelineStateMachineProps {
  /** Physical name; fixed so the definition's own ARN (Distributed Map child executions) can be granted without a cycle. */
  readonly stateMachineName: string;
  /** Absolute path of the ASL file. */
  readonly definitionFile: string;
  /** Must bind every `${…}` placeholder of the file, and nothing more. */
  readonly definitionSubstitutions: Readonly<Record<string, string>>;
  /** Lambda functions the Tasks invoke (by plain ARN). */
  readonly invokes: readonly { readonly functionArn: string }[];
  readonly logRetention: logs.RetentionDays;
  /** @default Duration.hours(6) */
  readonly timeout?: Duration;
  /** @default RemovalPolicy.DESTROY (log group) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One pipeline: an ASL file from stepfunctions/ deployed as it is (`DefinitionBody.fromFile` plus
 * `definitionSubstitutions`), the same document the local runner executes. Standard workflow,
 * every event logged with execution data, X-Ray tracing on.
 */
export class PipelineStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    validateProps(props);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps the account's CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(props.definitionFile),
      definitionSubstitutions: { ...props.definitionSubstitutions },
      timeout: props.timeout ?? Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // Only the function ARNs themselves: grantInvoke would add `<arn>:*` (every version) too.
    if (props.invokes.length > 0) {
      this.stateMachine.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: props.invokes.map((fn) => fn.functionArn),
        }),
      );
    }
    acknowledgeWildcards(
      this.stateMachine.role,
      { resources: ['*'] },
      'CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray (PutTraceSegments) support no resource-level permissions.',
    );
  }

  /** Adds a statement to the state machine's role (service integrations beyond Lambda). */
  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.stateMachine.addToRolePolicy(statement);
  }
}

function validateProps(props: PipelineStateMachineProps): void {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(props.stateMachineName)) {
    throw new Error(
      `PipelineStateMachineProps.stateMachineName must be 1-80 letters, digits, _ or - (got '${props.stateMachineName}')`,
    );
  }
  let text: string;
  try {
    text = readFileSync(props.definitionFile, 'utf8');
  } catch {
    throw new Error(`PipelineStateMachineProps.definitionFile cannot be read: ${props.definitionFile}`);
  }
  const used = placeholdersIn(text);
  const bound = Object.keys(props.definitionSubstitutions);
  const unbound = used.filter((name) => !bound.includes(name));
  const unused = bound.filter((name) => !used.includes(name));
  if (unbound.length > 0 || unused.length > 0) {
    throw new Error(
      `PipelineStateMachineProps.definitionSubstitutions does not match ${props.definitionFile}: ` +
        [
          unbound.length > 0 ? `unbound placeholders ${unbound.join(', ')}` : '',
          unused.length > 0 ? `unused substitutions ${unused.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
    );
  }
}

import { readFileSync } from 'node:fs';
import { RemovalPolicy } from 'aws-cdk-lib';
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
  /** @default RemovalPolicy.DESTROY (log group) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One pipeline: an ASL file from stepfunctions/ deployed as it is (`DefinitionBody.fromFile` plus
 * `definitionSubstitutions`), the same document the local runner executes. Standard workflow,
 * every event logged with execution data, X-Ray tracing on.
 *
 * Time limits live in the file: CDK applies `timeout` only to chained definitions, never to
 * `DefinitionBody.fromFile`, so the construct takes none and refuses a file whose top level or
 * any Task (in Map and Parallel states too) has no `TimeoutSeconds`.
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
  const unbounded = statesWithoutTimeout(text, props.definitionFile);
  if (unbounded.length > 0) {
    throw new Error(
      `PipelineStateMachineProps.definitionFile ${props.definitionFile} has no TimeoutSeconds on ${unbounded.join(', ')}: ` +
        'set it in the file (CDK ignores `timeout` for DefinitionBody.fromFile)',
    );
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

interface AslStates {
  readonly TimeoutSeconds?: unknown;
  readonly States?: Record<string, AslState>;
}
interface AslState {
  readonly Type?: string;
  readonly TimeoutSeconds?: unknown;
  readonly TimeoutSecondsPath?: unknown;
  readonly Iterator?: AslStates;
  readonly ItemProcessor?: AslStates;
  readonly Branches?: readonly AslStates[];
}

/**
 * What lacks a time limit in an ASL document: `the state machine` (top level) and the name of
 * every Task state, nested ones included, with neither `TimeoutSeconds` nor `TimeoutSecondsPath`.
 * Placeholders sit inside JSON strings, so the unsubstituted file parses.
 */
export function statesWithoutTimeout(text: string, file = 'the definition'): string[] {
  let definition: AslStates;
  try {
    definition = JSON.parse(text) as AslStates;
  } catch (error) {
    throw new Error(
      `PipelineStateMachineProps.definitionFile ${file} is not JSON: ${(error as Error).message}`,
    );
  }
  const missing: string[] = [];
  if (!isPositiveInteger(definition.TimeoutSeconds)) missing.push('the state machine');
  const visit = (states: Record<string, AslState> | undefined) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      if (state.Type === 'Task' && !isPositiveInteger(state.TimeoutSeconds) && !state.TimeoutSecondsPath) {
        missing.push(`Task ${name}`);
      }
      visit(state.Iterator?.States);
      visit(state.ItemProcessor?.States);
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit(definition.States);
  return missing;
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * Fitted model → serialized ONNX model, keeping the graph contract of graph-contract.ts:
 * per-column inputs → preprocessing (preprocessing-export.ts) → estimator → rank-1 outputs.
 */
import type { FittedModel } from '../training/model-types';
import { modelInputs } from '../training/preprocessing';
import { OnnxExportError } from './errors';
import { attribute, contractValueInfos, node, ONNX_ML_DOMAIN } from './graph-builder';
import {
  type EstimatorOutputs,
  INTERNAL_NAME_PREFIX,
  LABEL_OUTPUT,
  PREDICTION_OUTPUT,
  probabilityOutputName,
} from './graph-contract';
import { linearModelNodes } from './linear-export';
import { validateFittedModel } from './model-validation';
import { AXIS_ONE, preprocessingNodes } from './preprocessing-export';
import { encodeModelProto, type ModelProto, type NodeProto } from './proto-messages';
import { treeEnsembleNodes } from './tree-export';

/**
 * IR version 8 with opsets 16 / ai.onnx.ml 3 (ONNX 1.11): old enough for every onnxruntime the
 * project meets (onnxruntime-node 1.30, Python onnxruntime 1.31), new enough for the v3 ML ops.
 */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSETS = [
  { domain: '', version: 16 },
  { domain: ONNX_ML_DOMAIN, version: 3 },
] as const;

export const PRODUCER_NAME = 'serverless-mlops';

/** Keys of the model's `metadata_props`, so the file alone says what it predicts from. */
export const ONNX_METADATA_KEYS = {
  /** The raw input columns, in input order (JSON list). */
  features: 'feature_names',
  /** The known levels of each category input (JSON {column: [levels]}): anything else encodes as unknown. */
  categories: 'feature_categories',
  classes: 'class_labels',
  task: 'task',
  kind: 'model_kind',
} as const;

export interface OnnxExportOptions {
  /** The graph's name (shown by Netron and onnx.helper). @default 'serverless_mlops_<kind>_<task>' */
  readonly graphName?: string;
  /** Free text stored as the model's doc_string. */
  readonly description?: string;
  /** Extra `metadata_props` entries; the keys of ONNX_METADATA_KEYS are reserved. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** @default '0.1.0' */
  readonly producerVersion?: string;
}

export function exportToOnnx(model: FittedModel, options: OnnxExportOptions = {}): Uint8Array {
  validateFittedModel(model);
  const { inputs, outputs } = contractValueInfos(model);
  const preprocessing = preprocessingNodes(modelInputs(model));
  const estimator: EstimatorOutputs = {
    label: LABEL_OUTPUT,
    probabilities: `${INTERNAL_NAME_PREFIX}probabilities`,
    values: `${INTERNAL_NAME_PREFIX}values`,
  };
  const nodes = [
    ...preprocessing.nodes,
    ...(model.kind === 'linear'
      ? linearModelNodes(model, preprocessing.output, estimator)
      : treeEnsembleNodes(model, preprocessing.output, estimator)),
    ...rankOneOutputs(model, estimator),
  ];
  const proto: ModelProto = {
    ir_version: ONNX_IR_VERSION,
    opset_import: ONNX_OPSETS.map((opset) => ({ ...opset })),
    producer_name: PRODUCER_NAME,
    producer_version: options.producerVersion ?? '0.1.0',
    doc_string: options.description ?? '',
    graph: {
      name: options.graphName ?? `serverless_mlops_${model.kind}_${model.task}`,
      node: nodes,
      initializer: preprocessing.initializers,
      input: inputs,
      output: outputs,
    },
    metadata_props: metadataProps(model, options.metadata ?? {}),
  };
  return encodeModelProto(proto);
}

/**
 * [N, K] probabilities → one [N] output per class (Split on axis 1, then Squeeze); [N, 1] values →
 * `prediction` [N]. Rank 1 so that mlflow.onnx's pyfunc can answer a DataFrame.
 */
function rankOneOutputs(model: FittedModel, estimator: EstimatorOutputs): NodeProto[] {
  if (model.task === 'regression') {
    return [node('Squeeze', [estimator.values, AXIS_ONE], [PREDICTION_OUTPUT])];
  }
  const classes = model.classes ?? [];
  const columns = classes.map((_, k) => `${INTERNAL_NAME_PREFIX}probability/${k}`);
  return [
    node('Split', [estimator.probabilities], columns, [attribute.int('axis', 1)]),
    ...classes.map((name, k) =>
      node('Squeeze', [columns[k] as string, AXIS_ONE], [probabilityOutputName(name)]),
    ),
  ];
}

function metadataProps(model: FittedModel, extra: Readonly<Record<string, string>>) {
  const reserved = new Set<string>(Object.values(ONNX_METADATA_KEYS));
  const clash = Object.keys(extra).find((key) => reserved.has(key));
  if (clash) throw new OnnxExportError(`key '${clash}' is reserved for the exporter`, 'options.metadata');
  const inputs = modelInputs(model);
  const categories = Object.fromEntries(
    inputs.flatMap((input) => (input.kind === 'category' ? [[input.name, input.levels]] : [])),
  );
  const entries: Record<string, string> = {
    [ONNX_METADATA_KEYS.features]: JSON.stringify(inputs.map((input) => input.name)),
    [ONNX_METADATA_KEYS.categories]: JSON.stringify(categories),
    [ONNX_METADATA_KEYS.task]: model.task,
    [ONNX_METADATA_KEYS.kind]: model.kind,
    ...(model.classes ? { [ONNX_METADATA_KEYS.classes]: JSON.stringify(model.classes) } : {}),
    ...extra,
  };
  return Object.entries(entries).map(([key, value]) => ({ key, value }));
}

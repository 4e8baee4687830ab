/**
 * Fitted model → serialized ONNX model, keeping the graph contract of graph-contract.ts.
 */
import type { FittedModel } from '../training/model-types';
import { OnnxExportError } from './errors';
import { contractValueInfos, ONNX_ML_DOMAIN } from './graph-builder';
import { linearModelNodes } from './linear-export';
import { validateFittedModel } from './model-validation';
import { encodeModelProto, type ModelProto } from './proto-messages';
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
  features: 'feature_names',
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
  const { input, outputs } = contractValueInfos(model);
  const nodes = model.kind === 'linear' ? linearModelNodes(model) : treeEnsembleNodes(model);
  const proto: ModelProto = {
    ir_version: ONNX_IR_VERSION,
    opset_import: ONNX_OPSETS.map((opset) => ({ ...opset })),
    producer_name: PRODUCER_NAME,
    producer_version: options.producerVersion ?? '0.1.0',
    doc_string: options.description ?? '',
    graph: {
      name: options.graphName ?? `serverless_mlops_${model.kind}_${model.task}`,
      node: nodes,
      input: [input],
      output: outputs,
    },
    metadata_props: metadataProps(model, options.metadata ?? {}),
  };
  return encodeModelProto(proto);
}

function metadataProps(model: FittedModel, extra: Readonly<Record<string, string>>) {
  const reserved = new Set<string>(Object.values(ONNX_METADATA_KEYS));
  const clash = Object.keys(extra).find((key) => reserved.has(key));
  if (clash) throw new OnnxExportError(`key '${clash}' is reserved for the exporter`, 'options.metadata');
  const entries: Record<string, string> = {
    [ONNX_METADATA_KEYS.features]: JSON.stringify(model.features),
    [ONNX_METADATA_KEYS.task]: model.task,
    [ONNX_METADATA_KEYS.kind]: model.kind,
    ...(model.classes ? { [ONNX_METADATA_KEYS.classes]: JSON.stringify(model.classes) } : {}),
    ...extra,
  };
  return Object.entries(entries).map(([key, value]) => ({ key, value }));
}

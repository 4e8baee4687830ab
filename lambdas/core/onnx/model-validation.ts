/**
 * Checks a fitted model's parameters before export. onnxruntime rejects some inconsistencies
 * with an opaque message at session creation and silently misreads others (a leaf vote for a
 * class that does not exist, a tree with a cycle), so every problem is caught here and named.
 */
import type { DecisionTree, FittedModel, LinearModel, TreeEnsembleModel } from '../training/model-types';
import { expandedFeatureNames } from '../training/preprocessing';
import { OnnxExportError } from './errors';
import { graphContractOf, INTERNAL_NAME_PREFIX } from './graph-contract';

export function validateFittedModel(model: FittedModel): void {
  validateFeatures(model.features);
  if (model.inputs) validateInputs(model);
  if (model.task === 'classification') validateClasses(model.classes);
  if (model.task === 'regression' && outputWidthOf(model) !== 1) {
    throw new OnnxExportError(
      `a regressor answers one target (the graph's 'prediction'), this one ${outputWidthOf(model)}`,
      model.kind === 'linear' ? 'coefficients' : 'trees',
    );
  }
  const outputs = new Set(graphContractOf(model).outputs.map((output) => output.name));
  const inputs = graphContractOf(model).inputs.map((input) => input.name);
  inputs.forEach((name, index) => {
    if (outputs.has(name)) {
      throw new OnnxExportError(`input column '${name}' has the name of an output`, `inputs[${index}]`);
    }
    if (name.startsWith(INTERNAL_NAME_PREFIX)) {
      throw new OnnxExportError(
        `input column '${name}' starts with '${INTERNAL_NAME_PREFIX}', kept for the graph's own values`,
        `inputs[${index}]`,
      );
    }
  });
  if (model.kind === 'linear') validateLinear(model);
  else validateTrees(model);
}

/** Number of values each leaf (tree) or coefficient row (linear) must carry. */
export function outputWidthOf(model: FittedModel): number {
  if (model.task === 'regression') {
    if (model.kind === 'linear') return model.coefficients.length;
    return firstLeafValue(model.trees[0])?.length ?? 1;
  }
  const classCount = model.classes?.length ?? 0;
  const transform = model.kind === 'linear' ? model.link : model.postTransform;
  return transform === 'logistic' ? 1 : classCount;
}

function validateFeatures(features: readonly string[]): void {
  if (features.length === 0) throw new OnnxExportError('the model has no features', 'features');
  const seen = new Set<string>();
  features.forEach((name, index) => {
    if (typeof name !== 'string' || name.length === 0) {
      throw new OnnxExportError('a feature name must be a non-empty string', `features[${index}]`);
    }
    if (seen.has(name)) throw new OnnxExportError(`feature '${name}' appears twice`, `features[${index}]`);
    seen.add(name);
  });
}

/** The raw inputs must name distinct columns and expand to exactly the estimator's features. */
function validateInputs(model: FittedModel): void {
  const inputs = model.inputs ?? [];
  const seen = new Set<string>();
  inputs.forEach((input, index) => {
    const at = `inputs[${index}]`;
    if (typeof input.name !== 'string' || input.name.length === 0) {
      throw new OnnxExportError('an input column name must be a non-empty string', at);
    }
    if (seen.has(input.name)) throw new OnnxExportError(`input column '${input.name}' appears twice`, at);
    seen.add(input.name);
    if (input.kind === 'category') {
      if (input.levels.length === 0) {
        throw new OnnxExportError(
          `category column '${input.name}' has no levels: the training rows hold no value of it`,
          `${at}.levels`,
        );
      }
      if (new Set(input.levels).size !== input.levels.length || input.levels.includes('')) {
        throw new OnnxExportError(
          `the levels of '${input.name}' must be distinct non-empty strings`,
          `${at}.levels`,
        );
      }
    } else if (input.mean !== null && !Number.isFinite(input.mean)) {
      throw new OnnxExportError(`the mean of '${input.name}' is ${input.mean}`, `${at}.mean`);
    }
  });
  const numeric = inputs.filter((input) => input.kind === 'numeric');
  if (numeric.some((input) => input.mean === null) && numeric.some((input) => input.mean !== null)) {
    // One Imputer covers every column; "impute some, not others" has no single graph.
    throw new OnnxExportError('either every numeric input has a mean to impute or none has', 'inputs');
  }
  const expanded = expandedFeatureNames(inputs);
  if (expanded.length !== model.features.length || expanded.some((name, j) => name !== model.features[j])) {
    throw new OnnxExportError(
      `the inputs expand to [${expanded.join(', ')}], the estimator reads [${model.features.join(', ')}]`,
      'inputs',
    );
  }
}

function validateClasses(classes: readonly string[] | undefined): void {
  if (!classes || classes.length < 2) {
    throw new OnnxExportError('a classifier needs at least two class labels', 'classes');
  }
  if (new Set(classes).size !== classes.length) {
    throw new OnnxExportError('class labels must be distinct', 'classes');
  }
}

function validateLinear(model: LinearModel): void {
  const featureCount = model.features.length;
  const classCount = model.classes?.length ?? 0;
  const rows = model.coefficients.length;
  if (model.task === 'regression' && model.link !== 'identity') {
    throw new OnnxExportError(`a linear regressor needs link 'identity', not '${model.link}'`, 'link');
  }
  if (model.task === 'classification') {
    if (model.link === 'identity') {
      throw new OnnxExportError("a linear classifier needs link 'softmax' or 'logistic'", 'link');
    }
    if (model.link === 'logistic' && (classCount !== 2 || rows !== 1)) {
      throw new OnnxExportError(
        `link 'logistic' is binary: 2 classes and 1 coefficient row, got ${classCount} classes and ${rows} rows`,
        'coefficients',
      );
    }
    if (model.link === 'softmax' && rows !== classCount) {
      throw new OnnxExportError(
        `link 'softmax' needs one row per class (${classCount}), got ${rows}`,
        'coefficients',
      );
    }
  }
  if (rows === 0) throw new OnnxExportError('the model has no coefficient rows', 'coefficients');
  model.coefficients.forEach((row, r) => {
    checkFiniteVector(row, featureCount, `coefficients[${r}]`);
  });
  checkFiniteVector(model.intercepts, rows, 'intercepts');
  if (model.scaler) {
    checkFiniteVector(model.scaler.mean, featureCount, 'scaler.mean');
    checkFiniteVector(model.scaler.scale, featureCount, 'scaler.scale');
    model.scaler.scale.forEach((scale, index) => {
      if (scale === 0) {
        throw new OnnxExportError(
          'a scale of 0 would divide by zero (use 1 for constant features)',
          `scaler.scale[${index}]`,
        );
      }
    });
  }
}

function validateTrees(model: TreeEnsembleModel): void {
  if (model.trees.length === 0) throw new OnnxExportError('the ensemble has no trees', 'trees');
  const classCount = model.classes?.length ?? 0;
  if (model.task === 'regression' && model.postTransform !== 'none') {
    throw new OnnxExportError(
      `a tree regressor needs postTransform 'none', not '${model.postTransform}'`,
      'postTransform',
    );
  }
  if (model.task === 'classification' && model.postTransform === 'logistic' && classCount !== 2) {
    throw new OnnxExportError(
      `postTransform 'logistic' is binary: 2 classes, got ${classCount}`,
      'postTransform',
    );
  }
  const width = outputWidthOf(model);
  if (width < 1) throw new OnnxExportError('the first leaf carries no value', 'trees[0].value');
  if (model.baseValues.length !== 0) checkFiniteVector(model.baseValues, width, 'baseValues');
  model.trees.forEach((tree, index) => {
    validateTree(tree, model.features.length, width, `trees[${index}]`);
  });
  if (model.task === 'classification' && model.postTransform === 'none' && classCount === 2) {
    validateBinaryProbabilities(model);
  }
}

function validateTree(tree: DecisionTree, featureCount: number, width: number, path: string): void {
  const size = tree.feature.length;
  if (size === 0) throw new OnnxExportError('the tree has no nodes', `${path}.feature`);
  for (const key of ['threshold', 'left', 'right', 'value'] as const) {
    if (tree[key].length !== size) {
      throw new OnnxExportError(
        `has ${tree[key].length} entries, the tree has ${size} nodes`,
        `${path}.${key}`,
      );
    }
  }
  for (let node = 0; node < size; node++) {
    const left = tree.left[node] as number;
    const right = tree.right[node] as number;
    if (left === -1 || right === -1) {
      if (left !== right)
        throw new OnnxExportError('a leaf needs left = right = -1', `${path}.left[${node}]`);
      checkFiniteVector(tree.value[node] as number[], width, `${path}.value[${node}]`);
      continue;
    }
    for (const [side, child] of [
      ['left', left],
      ['right', right],
    ] as const) {
      if (!Number.isInteger(child) || child <= 0 || child >= size) {
        throw new OnnxExportError(`child ${child} is not a node of this tree`, `${path}.${side}[${node}]`);
      }
    }
    const feature = tree.feature[node] as number;
    if (!Number.isInteger(feature) || feature < 0 || feature >= featureCount) {
      throw new OnnxExportError(
        `feature index ${feature} is outside 0..${featureCount - 1}`,
        `${path}.feature[${node}]`,
      );
    }
    if (!Number.isFinite(tree.threshold[node])) {
      throw new OnnxExportError('the threshold is not a finite number', `${path}.threshold[${node}]`);
    }
  }
  checkIsTree(tree, path);
}

/** Every node reached exactly once from the root: no cycles, no shared or orphaned nodes. */
function checkIsTree(tree: DecisionTree, path: string): void {
  const visited = new Uint8Array(tree.feature.length);
  const stack = [0];
  while (stack.length > 0) {
    const node = stack.pop() as number;
    if (visited[node])
      throw new OnnxExportError(`node ${node} is reached twice from the root`, `${path}.left`);
    visited[node] = 1;
    const left = tree.left[node] as number;
    if (left !== -1) stack.push(left, tree.right[node] as number);
  }
  const orphan = visited.indexOf(0);
  if (orphan !== -1)
    throw new OnnxExportError(`node ${orphan} is not reachable from the root`, `${path}.left`);
}

/**
 * A binary ensemble of probabilities is exported as the probability of classes[1] alone (see
 * tree-export.ts), which is only faithful when every leaf holds a probability pair.
 */
function validateBinaryProbabilities(model: TreeEnsembleModel): void {
  if (model.baseValues.some((value) => value !== 0)) {
    throw new OnnxExportError(
      "a binary ensemble with postTransform 'none' cannot have base values",
      'baseValues',
    );
  }
  model.trees.forEach((tree, index) => {
    tree.value.forEach((value, node) => {
      if (tree.left[node] !== -1) return;
      const [p0 = Number.NaN, p1 = Number.NaN] = value;
      if (p0 < 0 || p1 < 0 || Math.abs(p0 + p1 - 1) > 1e-6) {
        throw new OnnxExportError(
          `leaf values [${p0}, ${p1}] are not class probabilities (non-negative, summing to 1)`,
          `trees[${index}].value[${node}]`,
        );
      }
    });
  });
}

function checkFiniteVector(values: readonly number[] | undefined, length: number, field: string): void {
  if (!Array.isArray(values) || values.length !== length) {
    throw new OnnxExportError(
      `expected ${length} numbers, got ${Array.isArray(values) ? values.length : 'none'}`,
      field,
    );
  }
  const bad = values.findIndex((value) => typeof value !== 'number' || !Number.isFinite(value));
  if (bad !== -1)
    throw new OnnxExportError(`value ${values[bad]} is not a finite number`, `${field}[${bad}]`);
}

function firstLeafValue(tree: DecisionTree | undefined): number[] | undefined {
  if (!tree) return undefined;
  const leaf = tree.left.indexOf(-1);
  return leaf === -1 ? undefined : tree.value[leaf];
}

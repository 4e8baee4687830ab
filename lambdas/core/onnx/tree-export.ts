/**
 * A tree ensemble as one `ai.onnx.ml` TreeEnsembleClassifier or TreeEnsembleRegressor node, in
 * the v1 attribute form (`nodes_*`, `class_*` / `target_*`) that every onnxruntime accepts.
 *
 * onnxruntime's classifier does not treat two classes like K classes (tree_ensemble_aggregator.h):
 * with votes for both classes it picks the label by `score[1] > 0` instead of the larger score,
 * and with two base values it overwrites score[1]. Its binary path is sound when every vote goes
 * to one slot: the label is `s > 0.5` (all votes ≥ 0, scores are probabilities) or `s > 0`
 * (some vote < 0), and the probabilities are [1 - s, s] or, with LOGISTIC, [σ(-s), σ(s)].
 * So two-class models are written that way: a probability ensemble votes p(classes[1]); a
 * boosted one votes its margin (softmax over two scores is the logistic of their difference).
 */

// The operators compare float32 inputs with float32 thresholds: round down onto that grid, as the trainers do.
import { float32AtOrBelow } from '../training/float32-threshold';
import type { DecisionTree, TreeEnsembleModel } from '../training/model-types';
import { attribute, mlNode } from './graph-builder';
import type { EstimatorOutputs } from './graph-contract';
import type { AttributeProto, NodeProto } from './proto-messages';

interface LeafVote {
  readonly tree: number;
  readonly node: number;
  readonly output: number;
  weight: number;
}

/** The estimator reads `input` ([N, D] float) and writes `outputs`. */
export function treeEnsembleNodes(
  model: TreeEnsembleModel,
  input: string,
  outputs: EstimatorOutputs,
): NodeProto[] {
  const structure = nodeAttributes(model.trees);
  if (model.task === 'regression') {
    const votes = leafVotes(model.trees, (value) => value);
    return [
      mlNode(
        'TreeEnsembleRegressor',
        [input],
        [outputs.values],
        [
          ...structure,
          ...voteAttributes('target', votes),
          attribute.int(
            'n_targets',
            votes.reduce((max, vote) => Math.max(max, vote.output + 1), 1),
          ),
          attribute.string('aggregate_function', model.aggregate === 'average' ? 'AVERAGE' : 'SUM'),
          ...baseValuesAttribute(model.baseValues),
          attribute.string('post_transform', 'NONE'),
        ],
      ),
    ];
  }
  const classes = model.classes ?? [];
  return [
    mlNode(
      'TreeEnsembleClassifier',
      [input],
      [outputs.label, outputs.probabilities],
      [
        ...structure,
        ...(classes.length === 2 ? binaryClassifierAttributes(model) : multiclassAttributes(model)),
        attribute.strings('classlabels_strings', classes),
      ],
    ),
  ];
}

/** The classifier has no aggregate_function (it always sums), so averaging is folded into the votes. */
function voteScale(model: TreeEnsembleModel): number {
  return model.aggregate === 'average' ? 1 / model.trees.length : 1;
}

function multiclassAttributes(model: TreeEnsembleModel): AttributeProto[] {
  const scale = voteScale(model);
  const votes = leafVotes(model.trees, (value) => value.map((weight) => weight * scale));
  return [
    ...voteAttributes('class', votes),
    ...baseValuesAttribute(model.baseValues),
    attribute.string('post_transform', model.postTransform === 'softmax' ? 'SOFTMAX' : 'NONE'),
  ];
}

function binaryClassifierAttributes(model: TreeEnsembleModel): AttributeProto[] {
  const scale = voteScale(model);
  if (model.postTransform === 'none') {
    // Probabilities: vote p(classes[1]); onnxruntime answers [1 - p, p] and label p > 0.5.
    const votes = leafVotes(model.trees, (value) => [(value[1] ?? 0) * scale]);
    return [...voteAttributes('class', votes), attribute.string('post_transform', 'NONE')];
  }
  // Margins: logistic models carry it directly; two-score softmax models as score1 - score0.
  const logistic = model.postTransform === 'logistic';
  const votes = leafVotes(model.trees, (value) => [
    (logistic ? (value[0] ?? 0) : (value[1] ?? 0) - (value[0] ?? 0)) * scale,
  ]);
  const [base0 = 0, base1 = 0] = model.baseValues;
  const base = ensureNegativeVote(votes, logistic ? base0 : base1 - base0);
  return [
    ...voteAttributes('class', votes),
    attribute.floats('base_values', [base]),
    attribute.string('post_transform', 'LOGISTIC'),
  ];
}

/**
 * With no negative vote onnxruntime takes the scores for probabilities: it labels by s > 0.5
 * instead of s > 0 (and older releases also skip the logistic). When no vote is negative, tree
 * 0's votes are lowered by c and the base raised by c: every row reaches exactly one leaf of
 * tree 0, so the margin is unchanged (up to float32 rounding).
 */
function ensureNegativeVote(votes: LeafVote[], base: number): number {
  if (votes.some((vote) => vote.weight < 0)) return base;
  const firstTree = votes.filter((vote) => vote.tree === 0);
  const shift = Math.min(...firstTree.map((vote) => vote.weight)) + 1;
  for (const vote of firstTree) vote.weight -= shift;
  return base + shift;
}

function nodeAttributes(trees: readonly DecisionTree[]): AttributeProto[] {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  trees.forEach((tree, treeId) => {
    for (let node = 0; node < tree.feature.length; node++) {
      const leaf = tree.left[node] === -1;
      treeIds.push(treeId);
      nodeIds.push(node);
      featureIds.push(leaf ? 0 : (tree.feature[node] as number));
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : float32AtOrBelow(tree.threshold[node] as number));
      trueIds.push(leaf ? 0 : (tree.left[node] as number));
      falseIds.push(leaf ? 0 : (tree.right[node] as number));
    }
  });
  return [
    attribute.ints('nodes_treeids', treeIds),
    attribute.ints('nodes_nodeids', nodeIds),
    attribute.ints('nodes_featureids', featureIds),
    attribute.strings('nodes_modes', modes),
    attribute.floats('nodes_values', values),
    attribute.ints('nodes_truenodeids', trueIds),
    attribute.ints('nodes_falsenodeids', falseIds),
  ];
}

function leafVotes(trees: readonly DecisionTree[], weightsOf: (value: number[]) => number[]): LeafVote[] {
  const votes: LeafVote[] = [];
  trees.forEach((tree, treeId) => {
    tree.value.forEach((value, node) => {
      if (tree.left[node] !== -1) return;
      // Zero votes are kept: onnxruntime infers the binary case from which slots get votes.
      weightsOf(value).forEach((weight, output) => {
        votes.push({ tree: treeId, node, output, weight });
      });
    });
  });
  return votes;
}

function voteAttributes(prefix: 'class' | 'target', votes: readonly LeafVote[]): AttributeProto[] {
  return [
    attribute.ints(
      `${prefix}_treeids`,
      votes.map((vote) => vote.tree),
    ),
    attribute.ints(
      `${prefix}_nodeids`,
      votes.map((vote) => vote.node),
    ),
    attribute.ints(
      `${prefix}_ids`,
      votes.map((vote) => vote.output),
    ),
    attribute.floats(
      `${prefix}_weights`,
      votes.map((vote) => vote.weight),
    ),
  ];
}

function baseValuesAttribute(baseValues: readonly number[]): AttributeProto[] {
  return baseValues.some((value) => value !== 0) ? [attribute.floats('base_values', baseValues)] : [];
}

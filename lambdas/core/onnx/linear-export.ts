/**
 * A linear model as `ai.onnx.ml` nodes: an optional Scaler, then LinearClassifier or
 * LinearRegressor.
 *
 * Binary logistic models keep their single coefficient row: LinearClassifier with one row, two
 * class labels and post_transform LOGISTIC answers the label by the sign of the score and the
 * probabilities as [1 - p, p] (onnxruntime's `add_second_class`; checked in the unit tests).
 */
import type { LinearModel } from '../training/model-types';
import { attribute, mlNode } from './graph-builder';
import { type EstimatorOutputs, INTERNAL_NAME_PREFIX } from './graph-contract';
import type { NodeProto } from './proto-messages';

const SCALED = `${INTERNAL_NAME_PREFIX}scaled`;

/** The estimator reads `input` ([N, D] float) and writes `outputs`. */
export function linearModelNodes(model: LinearModel, input: string, outputs: EstimatorOutputs): NodeProto[] {
  const nodes: NodeProto[] = [];
  let features = input;
  if (model.scaler) {
    // Scaler computes (x - offset) * scale; the fitted scaler divides, so scale is inverted.
    nodes.push(
      mlNode(
        'Scaler',
        [input],
        [SCALED],
        [
          attribute.floats('offset', model.scaler.mean),
          attribute.floats(
            'scale',
            model.scaler.scale.map((scale) => 1 / scale),
          ),
        ],
      ),
    );
    features = SCALED;
  }
  const coefficients = attribute.floats('coefficients', model.coefficients.flat());
  const intercepts = attribute.floats('intercepts', model.intercepts);
  if (model.task === 'classification') {
    nodes.push(
      mlNode(
        'LinearClassifier',
        [features],
        [outputs.label, outputs.probabilities],
        [
          coefficients,
          intercepts,
          attribute.strings('classlabels_strings', model.classes ?? []),
          attribute.string('post_transform', model.link === 'softmax' ? 'SOFTMAX' : 'LOGISTIC'),
          attribute.int('multi_class', 0),
        ],
      ),
    );
  } else {
    nodes.push(
      mlNode(
        'LinearRegressor',
        [features],
        [outputs.values],
        [
          coefficients,
          intercepts,
          attribute.int('targets', model.coefficients.length),
          attribute.string('post_transform', 'NONE'),
        ],
      ),
    );
  }
  return nodes;
}

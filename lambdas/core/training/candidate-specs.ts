/**
 * The candidate specs a training run tries: a family, its hyper-parameters (snake_case, named
 * after scikit-learn's where one exists, as they are logged to MLflow), and the default grid.
 *
 * Hyper-parameters are checked with zod: a spec arrives as JSON from a state machine's input or
 * a training plan, so a typo (`max_dept`) or an out-of-range value is a CandidateSpecError that
 * names the parameter, not a silently ignored key.
 */
import { z } from 'zod';
import { CandidateSpecError } from './errors';
import type { GradientBoostingParams } from './gradient-boosting';
import type { LogisticRegressionParams } from './logistic-regression';
import type { Task } from './model-types';
import type { RandomForestParams } from './random-forest';
import type { RidgeParams } from './ridge-regression';

export type CandidateSpec =
  | {
      readonly name: string;
      readonly family: 'logistic_regression';
      readonly params: LogisticRegressionParams;
    }
  | { readonly name: string; readonly family: 'ridge'; readonly params: RidgeParams }
  | { readonly name: string; readonly family: 'random_forest'; readonly params: RandomForestParams }
  | { readonly name: string; readonly family: 'gradient_boosting'; readonly params: GradientBoostingParams };

export type Family = CandidateSpec['family'];

/** The tasks each family can be trained for. */
export const FAMILY_TASKS: Readonly<Record<Family, readonly Task[]>> = {
  logistic_regression: ['classification'],
  ridge: ['regression'],
  random_forest: ['classification', 'regression'],
  gradient_boosting: ['classification', 'regression'],
};

const count = (min: number, max: number) => z.number().int().min(min).max(max);

const logisticRegressionParams = z.strictObject({
  c: z.number().positive().default(1),
  max_iter: count(1, 10_000).default(200),
  tol: z.number().positive().default(1e-6),
});

const ridgeParams = z.strictObject({
  // alpha > 0 keeps ZᵀZ + αI positive definite (the Cholesky solve needs it).
  alpha: z.number().positive().default(1),
});

const randomForestParams = z.strictObject({
  n_estimators: count(1, 5_000).default(100),
  // Depth 10 (≤ 1024 leaves a tree) keeps a 100-tree model a few MB; 0 means no limit.
  max_depth: count(0, 64).default(10),
  min_samples_leaf: count(1, 1_000_000).default(1),
  max_features: z.union([z.enum(['sqrt', 'log2', 'all']), z.number().gt(0).lte(1)]).optional(),
  bootstrap: z.boolean().default(true),
  max_bins: count(2, 255).default(255),
});

const gradientBoostingParams = z.strictObject({
  max_iter: count(1, 10_000).default(100),
  learning_rate: z.number().positive().max(10).default(0.1),
  // Best-first growth keeps one histogram per open leaf, so the leaf count is bounded.
  max_leaf_nodes: z.union([z.literal(0), count(2, 4096)]).default(31),
  max_depth: count(0, 64).default(0),
  min_samples_leaf: count(1, 1_000_000).default(20),
  l2_regularization: z.number().min(0).default(0),
  max_bins: count(2, 255).default(255),
});

const candidateSpecSchema = z.discriminatedUnion('family', [
  z.strictObject({
    name: z.string().min(1),
    family: z.literal('logistic_regression'),
    params: logisticRegressionParams.prefault({}),
  }),
  z.strictObject({ name: z.string().min(1), family: z.literal('ridge'), params: ridgeParams.prefault({}) }),
  z.strictObject({
    name: z.string().min(1),
    family: z.literal('random_forest'),
    params: randomForestParams.prefault({}),
  }),
  z.strictObject({
    name: z.string().min(1),
    family: z.literal('gradient_boosting'),
    params: gradientBoostingParams.prefault({}),
  }),
]);

/**
 * A typed spec from JSON: `{ name, family, params? }`, missing params taking their defaults.
 * `max_features` of a random forest defaults by task (sqrt for classification, all for
 * regression, as scikit-learn), so it is resolved in `trainCandidate`, not here.
 */
export function parseCandidateSpec(input: unknown): CandidateSpec {
  const result = candidateSpecSchema.safeParse(input);
  if (result.success) return result.data as CandidateSpec;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'spec';
  const family =
    typeof input === 'object' && input !== null && 'family' in input
      ? (input as { family: unknown }).family
      : undefined;
  if (field === 'family' && family === undefined) {
    throw new CandidateSpecError(`is required: one of ${Object.keys(FAMILY_TASKS).join(', ')}`, 'family');
  }
  if (field === 'family') {
    throw new CandidateSpecError(
      `unknown family ${JSON.stringify(family)}; known: ${Object.keys(FAMILY_TASKS).join(', ')}`,
      'family',
    );
  }
  throw new CandidateSpecError(issue?.message ?? 'invalid candidate spec', field);
}

/** The default candidates of a task: one per family that supports it, default hyper-parameters. */
export function defaultCandidates(task: Task): CandidateSpec[] {
  const families = (Object.keys(FAMILY_TASKS) as Family[]).filter((family) =>
    FAMILY_TASKS[family].includes(task),
  );
  return families.map((family) => parseCandidateSpec({ name: family, family }));
}

/**
 * A candidates file (schemas/candidates.schema.json): a non-empty array of specs with unique
 * names. A bad one is a CandidateSpecError whose field starts with its index (`[1].params.max_depth`).
 */
export function parseCandidateSpecs(input: unknown): CandidateSpec[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new CandidateSpecError('must be a non-empty array of {name, family, params}', 'candidates');
  }
  const seen = new Set<string>();
  return input.map((spec: unknown, i) => {
    let parsed: CandidateSpec;
    try {
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
        throw new CandidateSpecError('must be an object {name, family, params}', 'spec');
      }
      const name = (spec as { name?: unknown }).name;
      if (typeof name === 'string' && name.trim() === '') {
        throw new CandidateSpecError('cannot be blank', 'name');
      }
      parsed = parseCandidateSpec(spec);
    } catch (error) {
      if (!(error instanceof CandidateSpecError)) throw error;
      const field = error.field === 'spec' ? `[${i}]` : `[${i}].${error.field}`;
      throw new CandidateSpecError(error.message.slice(error.field.length + 2), field);
    }
    if (seen.has(parsed.name)) {
      throw new CandidateSpecError(`"${parsed.name}" is used by an earlier candidate`, `[${i}].name`);
    }
    seen.add(parsed.name);
    return parsed;
  });
}

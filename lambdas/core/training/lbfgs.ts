/**
 * Limited-memory BFGS for smooth unconstrained minimisation (Nocedal & Wright, Numerical
 * Optimization, 2nd ed., algorithm 7.4 for the two-loop recursion, 3.1 for backtracking).
 *
 * Why our own: ml-matrix has no optimiser and the installed packages hold none; the logistic
 * loss is smooth and strictly convex, so L-BFGS with an Armijo backtracking line search (and
 * curvature pairs kept only when sᵀy > 0) converges reliably in tens of iterations.
 */

/** Writes the gradient at `theta` into `gradient` and returns the objective value. */
export type Objective = (theta: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Stop when max |gradient_i| falls below this. */
  readonly gradientTolerance: number;
  readonly maxIterations: number;
  /** Number of curvature pairs kept. @default 10 */
  readonly memory?: number;
}

export interface LbfgsResult {
  readonly theta: Float64Array;
  readonly value: number;
  readonly iterations: number;
  readonly converged: boolean;
}

const ARMIJO = 1e-4;
const MAX_BACKTRACKS = 40;

export function minimizeLbfgs(objective: Objective, start: Float64Array, options: LbfgsOptions): LbfgsResult {
  const size = start.length;
  const memory = options.memory ?? 10;
  const theta = Float64Array.from(start);
  const gradient = new Float64Array(size);
  let value = objective(theta, gradient);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const direction = new Float64Array(size);
  const candidate = new Float64Array(size);
  const candidateGradient = new Float64Array(size);
  const alpha = new Float64Array(memory);

  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    if (maxAbs(gradient) <= options.gradientTolerance) {
      return { theta, value, iterations: iteration, converged: true };
    }
    // Two-loop recursion: direction = -H·g with H the L-BFGS inverse-Hessian estimate.
    direction.set(gradient);
    for (let k = sHistory.length - 1; k >= 0; k--) {
      const a = (rhoHistory[k] as number) * dot(sHistory[k] as Float64Array, direction);
      alpha[k] = a;
      axpy(-a, yHistory[k] as Float64Array, direction);
    }
    const last = sHistory.length - 1;
    const gamma =
      last >= 0
        ? dot(sHistory[last] as Float64Array, yHistory[last] as Float64Array) /
          dot(yHistory[last] as Float64Array, yHistory[last] as Float64Array)
        : 1 / Math.max(1, Math.sqrt(dot(gradient, gradient)));
    for (let i = 0; i < size; i++) direction[i] = (direction[i] as number) * gamma;
    for (let k = 0; k < sHistory.length; k++) {
      const b = (rhoHistory[k] as number) * dot(yHistory[k] as Float64Array, direction);
      axpy((alpha[k] as number) - b, sHistory[k] as Float64Array, direction);
    }
    for (let i = 0; i < size; i++) direction[i] = -(direction[i] as number);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction (stale curvature): restart from steepest descent.
      sHistory.length = 0;
      yHistory.length = 0;
      rhoHistory.length = 0;
      for (let i = 0; i < size; i++) direction[i] = -(gradient[i] as number);
      slope = dot(gradient, direction);
    }

    let step = 1;
    let next = Number.NaN;
    for (let backtrack = 0; backtrack < MAX_BACKTRACKS; backtrack++) {
      for (let i = 0; i < size; i++) candidate[i] = (theta[i] as number) + step * (direction[i] as number);
      next = objective(candidate, candidateGradient);
      if (next <= value + ARMIJO * step * slope) break;
      step *= 0.5;
    }
    if (!(next <= value + ARMIJO * step * slope)) {
      // No decrease found along a descent direction: we are at the limit of float precision.
      return {
        theta,
        value,
        iterations: iteration,
        converged: maxAbs(gradient) <= options.gradientTolerance * 100,
      };
    }

    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      s[i] = (candidate[i] as number) - (theta[i] as number);
      y[i] = (candidateGradient[i] as number) - (gradient[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * dot(y, y)) {
      if (sHistory.length === memory) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
    }
    const previous = value;
    theta.set(candidate);
    gradient.set(candidateGradient);
    value = next;
    if (Math.abs(previous - value) <= 1e-15 * Math.max(1, Math.abs(value))) {
      return {
        theta,
        value,
        iterations: iteration + 1,
        converged: maxAbs(gradient) <= options.gradientTolerance * 100,
      };
    }
  }
  return {
    theta,
    value,
    iterations: options.maxIterations,
    converged: maxAbs(gradient) <= options.gradientTolerance,
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** y += a·x */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = (y[i] as number) + a * (x[i] as number);
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i] as number));
  return max;
}

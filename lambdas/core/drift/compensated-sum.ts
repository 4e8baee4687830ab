/**
 * Neumaier's compensated summation. numpy sums pairwise (error ~ log2(n)·ε); a plain running sum
 * over a million terms drifts by ~n·ε. Compensation keeps our sums within a few ε of the exact
 * value, so the difference from scipy is scipy's own rounding, far below the 1e-6 we promise.
 */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(term: number): void {
    const next = this.sum + term;
    this.compensation +=
      Math.abs(this.sum) >= Math.abs(term) ? this.sum - next + term : term - next + this.sum;
    this.sum = next;
  }

  get value(): number {
    return this.sum + this.compensation;
  }
}

import { describe, expect, it } from 'vitest';
import { DriftConfigError, loadDriftConfig } from '../../lambdas/core/drift';

describe('loadDriftConfig', () => {
  it('defaults to share_drifted over 0.20 with 10 PSI bins', () => {
    expect(loadDriftConfig({})).toEqual({ metric: 'share_drifted', threshold: 0.2, psiBins: 10 });
  });

  it('reads the metric, threshold and bins, trimming blanks', () => {
    const config = loadDriftConfig({
      DRIFT_METRIC: ' max_psi ',
      DRIFT_THRESHOLD: '0.25',
      DRIFT_PSI_BINS: '20',
    });

    expect(config).toEqual({ metric: 'max_psi', threshold: 0.25, psiBins: 20 });
  });

  it('treats empty strings as unset', () => {
    expect(loadDriftConfig({ DRIFT_METRIC: '', DRIFT_THRESHOLD: '  ' })).toEqual({
      metric: 'share_drifted',
      threshold: 0.2,
      psiBins: 10,
    });
  });

  it('names the variable and the allowed values for an unknown metric', () => {
    const error = captureError(() => loadDriftConfig({ DRIFT_METRIC: 'max_ks' }));

    expect(error).toBeInstanceOf(DriftConfigError);
    expect(error.variable).toBe('DRIFT_METRIC');
    expect(error.message).toBe(
      'Invalid drift configuration: DRIFT_METRIC must be one of share_drifted, max_psi, max_wasserstein_normed, max_jensenshannon (got "max_ks")',
    );
  });

  it.each([
    ['abc', 'DRIFT_THRESHOLD must be a finite number such as 0.2 (got "abc")'],
    ['-0.1', 'DRIFT_THRESHOLD must be above 0 (got "-0.1")'],
    ['0', 'DRIFT_THRESHOLD must be above 0 (got "0")'],
    ['Infinity', 'DRIFT_THRESHOLD must be a finite number such as 0.2 (got "Infinity")'],
    [
      '1.5',
      'DRIFT_THRESHOLD must be at most 1 when DRIFT_METRIC is share_drifted (it is a share of features) (got "1.5")',
    ],
  ])('rejects DRIFT_THRESHOLD=%s', (value, message) => {
    const error = captureError(() => loadDriftConfig({ DRIFT_THRESHOLD: value }));

    expect(error.variable).toBe('DRIFT_THRESHOLD');
    expect(error.message).toBe(`Invalid drift configuration: ${message}`);
  });

  it('accepts a threshold above 1 for a distance metric', () => {
    expect(loadDriftConfig({ DRIFT_METRIC: 'max_psi', DRIFT_THRESHOLD: '1.5' }).threshold).toBe(1.5);
  });

  it('rejects PSI bin counts outside 2..100', () => {
    const error = captureError(() => loadDriftConfig({ DRIFT_PSI_BINS: '1' }));

    expect(error.variable).toBe('DRIFT_PSI_BINS');
    expect(error.message).toContain('DRIFT_PSI_BINS must be an integer from 2 to 100 (got "1")');
  });
});

function captureError(fn: () => unknown): DriftConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DriftConfigError) return error;
    throw error;
  }
  throw new Error('expected a DriftConfigError');
}

import { describe, expect, it } from 'vitest';
import { type Column, categoricalColumn, type Frame, numericColumn } from '../../lambdas/core/data/frame';
import {
  type CategoricalHistogram,
  computeDrift,
  computeHistograms,
  type NumericHistogram,
  renderDriftReport,
} from '../../lambdas/core/drift';

function frame(columns: Record<string, Column>, rowCount: number): Frame {
  return { rowCount, columns: new Map(Object.entries(columns)) };
}

const ramp = (n: number, offset = 0) => Float64Array.from({ length: n }, (_, i) => i + offset);

describe('computeHistograms', () => {
  it('puts reference and current on the same equal-width bins over the combined range', () => {
    const reference = frame({ x: numericColumn(ramp(100)) }, 100);
    const current = frame({ x: numericColumn(Float64Array.from([...ramp(100, 100), Number.NaN])) }, 101);

    const x = computeHistograms(reference, current, { bins: 4 }).x as NumericHistogram;

    expect(x.edges).toEqual([0, 49.75, 99.5, 149.25, 199]);
    expect(x.reference).toEqual([50, 50, 0, 0]);
    expect(x.current).toEqual([0, 0, 50, 50]);
    expect([x.referenceTotal, x.currentTotal]).toEqual([100, 100]);
  });

  it('draws one centred bin for a column with a single value', () => {
    const data = frame({ x: numericColumn(new Float64Array(10).fill(7)) }, 10);

    const x = computeHistograms(data, data).x as NumericHistogram;

    expect(x.edges).toEqual([6.5, 7.5]);
    expect(x.reference).toEqual([10]);
  });

  it('keeps the most frequent categories by name and lumps the rest into "other"', () => {
    const reference = frame(
      { c: categoricalColumn(Int32Array.of(0, 0, 0, 1, 1, 2, 3, -1), ['a', 'b', 'c', 'd']) },
      8,
    );
    const current = frame({ c: categoricalColumn(Int32Array.of(0, 0, 1, 2), ['b', 'a', 'e']) }, 4);

    const c = computeHistograms(reference, current, { maxCategories: 3 }).c as CategoricalHistogram;

    expect(c.categories).toEqual(['b', 'a', 'other (3)']);
    expect(c.reference).toEqual([2, 3, 2]);
    expect(c.current).toEqual([2, 1, 1]);
    expect(c.otherCategories).toBe(3);
    expect([c.referenceTotal, c.currentTotal]).toEqual([7, 4]);
  });
});

describe('renderDriftReport', () => {
  const reference = frame(
    {
      'income <b>': numericColumn(ramp(2000)),
      segment: categoricalColumn(
        Int32Array.from({ length: 2000 }, (_, i) => i % 3),
        ['retail', 'smb', '<script>alert(1)</script>'],
      ),
      gone: numericColumn(ramp(2000)),
    },
    2000,
  );
  const current = frame(
    {
      'income <b>': numericColumn(ramp(2000, 900)),
      segment: categoricalColumn(
        Int32Array.from({ length: 2000 }, (_, i) => i % 3),
        ['retail', 'smb', '<script>alert(1)</script>'],
      ),
    },
    2000,
  );
  const result = computeDrift(reference, current);
  const html = renderDriftReport(result, computeHistograms(reference, current), {
    generatedAt: new Date('2026-03-01T12:00:00Z'),
    modelName: 'churn & "friends"',
    modelVersion: '7',
  });

  it('is a complete page with a policy that forbids any network fetch', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('escapes every piece of text from the data and the caller', () => {
    expect(html).toContain('income &#60;b&#62;');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('Model churn &#38; &#34;friends&#34; v7');
    expect(html).not.toContain('<b>');
  });

  it('states the verdict, the metric against the threshold and the timestamp', () => {
    expect(html).toContain(
      '<section class="verdict drifted"><strong>Drift detected</strong>share_drifted = 50% &gt; threshold 20%',
    );
    expect(html).toContain('1 of 2 features drifted');
    expect(html).toContain('Generated 2026-03-01T12:00:00.000Z');
  });

  it('draws one SVG chart per column with a reference and a current bar per bin', () => {
    const charts = html.match(/<svg [^>]*class="histogram"/g) ?? [];
    const referenceBars = html.match(/class="bar-reference"/g) ?? [];
    const currentBars = html.match(/class="bar-current"/g) ?? [];

    // income (20 bins) + segment (3 categories) + gone (20 bins, reference only)
    expect(charts).toHaveLength(3);
    expect(referenceBars).toHaveLength(43);
    expect(currentBars).toHaveLength(43);
  });

  it('lists the statistics of compared columns and the reason for the others', () => {
    const income = result.columns['income <b>'];
    expect(income && 'psi' in income).toBe(true);
    expect(html).toContain('<td class="error" colspan="11">the column is missing from the current data</td>');
    expect(html).toContain('Wasserstein (normed)');
    expect(html).toContain('gone: left out of the share: the column is missing from the current data');
  });
});

/** Shared inputs of the data module's tests: a contract with every column type, and rows for it. */
import { type DataContract, parseContract } from '../../lambdas/core/data';

export const MIXED_CONTRACT: DataContract = parseContract({
  name: 'mixed',
  task: 'classification',
  target: 'label',
  time_column: 'when',
  columns: [
    { name: 'id', type: 'integer', min: 0 },
    { name: 'when', type: 'datetime' },
    { name: 'height', type: 'number', min: 0, max: 10, nullable: true },
    { name: 'active', type: 'boolean' },
    { name: 'color', type: 'category', values: ['red', 'green', 'blue'], nullable: true },
    { name: 'note', type: 'category', nullable: true },
    { name: 'label', type: 'category', values: ['no', 'yes'] },
  ],
});

/** Six valid rows; `note` has a comma, a quote, a line break and non-ASCII text, so CSV must quote. */
export const MIXED_CSV = [
  'id,when,height,active,color,note,label',
  '1,2024-01-01,1.5,true,red,plain,no',
  '2,2024-01-02T06:30:00Z,,false,,"with, comma",yes',
  '3,2024-01-03T00:00:00+02:00,2.25,1,green,"say ""hi""",no',
  '4,2024-01-04 12:00:00,0,0,blue,"two\nlines",yes',
  '5,2024-01-05,9.75,TRUE,red,,no',
  '6,2024-01-06T23:59:59.123Z,3e-3,False,green,Zürich ☂,yes',
].join('\n');

export const MIXED_ROWS = 6;

/** A generated numeric CSV: `rows` rows of `columns` columns f0..f{n-1}, values in [0, 100). */
export function numericCsv(rows: number, columns: number, seed = 1): string {
  let state = seed;
  const next = () => {
    state = (state * 16807) % 2147483647;
    return (state / 2147483647) * 100;
  };
  const lines = [Array.from({ length: columns }, (_, c) => `f${c}`).join(',')];
  for (let r = 0; r < rows; r++) {
    lines.push(Array.from({ length: columns }, () => next().toFixed(4)).join(','));
  }
  return `${lines.join('\n')}\n`;
}

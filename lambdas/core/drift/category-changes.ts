/** What a report says about a categorical column besides its statistics. */
import { type ColumnDrift, isColumnError } from './drift-result';

/** A categorical column's categories that appeared or vanished, in words; '' when none did. */
export function categoryChanges(column: ColumnDrift): string {
  if (isColumnError(column) || column.kind !== 'categorical') return '';
  const list = (names: readonly string[]) =>
    names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
  return [
    ...(column.new_categories.length > 0 ? [`new: ${list(column.new_categories)}`] : []),
    ...(column.absent_categories.length > 0 ? [`absent now: ${list(column.absent_categories)}`] : []),
  ].join('; ');
}

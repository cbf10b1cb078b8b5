/**
 * Tables as CSV with the same column names and empty-value rule as the JSON outputs:
 * headers are the table's own (camelCase) keys, and a value JSON writes as null
 * (NaN, ±Infinity, null) is an empty CSV field.
 */
export type Column = ArrayLike<number | string | null>;

function cell(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(12))) : '';
  return /[",\n]/.test(v) ? JSON.stringify(v) : v;
}

/** One header line of the keys, then one line per row (the shortest column sets the row count). */
export function tableCsv(table: Record<string, Column>): string {
  const keys = Object.keys(table);
  const n = keys.length ? Math.min(...keys.map((k) => table[k]!.length)) : 0;
  const lines = [keys.join(',')];
  for (let i = 0; i < n; i++) lines.push(keys.map((k) => cell(table[k]![i])).join(','));
  return lines.join('\n') + '\n';
}

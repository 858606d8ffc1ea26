/**
 * Listings as upstream's admin commands print them: a title, a header, dashes, one row per
 * line, every column but the last padded to its width (at least 15), two spaces between,
 * and two blank lines after; `None`, `True` and `False` as Python writes them.
 */
import type { AdminOutput } from '../../cascade/admin/session.js';

export type Cell = string | number | boolean | null;

function text(cell: Cell): string {
  if (cell === null) return 'None';
  if (cell === true) return 'True';
  if (cell === false) return 'False';
  return String(cell);
}

/**
 * `sizing`: the values the widths come from, when they differ from the ones shown (upstream
 * sizes `tables`' attribute column by the stored text and shows it parsed).
 */
export function displayTable(
  out: AdminOutput,
  title: string,
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  sizing: readonly (readonly Cell[])[] = rows,
): void {
  const cells = rows.map((row) => row.map(text));
  const sizes = sizing.map((row) => row.map(text));
  const widths = header.map((name, i) =>
    Math.max(15, name.length, ...sizes.map((row) => (row[i] ?? '').length)),
  );
  const line = (values: readonly string[]) =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] as number))).join('  ');
  out.print(title);
  out.print(line(header));
  out.print(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) out.print(line(row));
  out.print('');
  out.print('');
}

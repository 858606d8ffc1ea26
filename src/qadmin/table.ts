/**
 * Result sets printed as psql prints them in its aligned format: a centered title, centered
 * column names, numbers right-aligned and everything else left-aligned, NULL as nothing,
 * and a `(N rows)` footer.
 */

export interface TextResult {
  columns: { name: string; numeric: boolean }[];
  /** Values as the server's text (NULL as null). */
  rows: (string | null)[][];
}

// int2, int4, int8, oid, float4, float8, numeric: psql right-aligns these.
const numericTypes = new Set([20, 21, 23, 26, 700, 701, 1700]);

export function isNumericType(oid: number): boolean {
  return numericTypes.has(oid);
}

const width = (text: string) => [...text].length;

/** One line per value line: a value with newlines is continued with `+`, as psql does. */
export function formatTable(result: TextResult, title?: string): string {
  const { columns } = result;
  const rows = result.rows.map((row) => row.map((value) => (value ?? '').replace(/\r?\n/g, ' ')));
  const widths = columns.map((column, i) =>
    Math.max(width(column.name), ...rows.map((row) => width(row[i] ?? ''))),
  );
  const last = columns.length - 1;
  const lines: string[] = [];
  const tableWidth = widths.reduce((sum, w) => sum + w + 3, -1);
  if (title !== undefined) {
    const pad = Math.max(0, Math.floor((tableWidth - width(title)) / 2));
    lines.push(`${' '.repeat(pad)}${title}`);
  }
  lines.push(
    columns
      .map((column, i) => {
        const w = widths[i] as number;
        const left = Math.floor((w - width(column.name)) / 2);
        const cell = `${' '.repeat(left)}${column.name}${' '.repeat(w - width(column.name) - left)}`;
        return ` ${cell} `;
      })
      .join('|')
      .trimEnd(),
  );
  lines.push(widths.map((w) => '-'.repeat(w + 2)).join('+'));
  for (const row of rows) {
    lines.push(
      columns
        .map((column, i) => {
          const value = row[i] ?? '';
          const fill = ' '.repeat((widths[i] as number) - width(value));
          if (column.numeric) return ` ${fill}${value} `;
          return i === last ? ` ${value}` : ` ${value}${fill} `;
        })
        .join('|')
        .trimEnd(),
    );
  }
  lines.push(`(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`);
  return `${lines.join('\n')}\n`;
}

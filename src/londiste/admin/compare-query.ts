/**
 * compare's query and its log line: upstream's form `select count(1) as cnt,
 * sum(hashtext(<cols>::text)::bigint) as chksum from only T [where <copy condition>]`, the
 * INI overrides `compare_sql` (with `_TABLE_` and `_COLS_` in it) and `compare_fmt` (Python's
 * `%(name)s` / `%(name)d` over the result's columns), and the test for equal results.
 */
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import { quoteFqname } from '../table-names.js';

export const defaultCompareSql =
  'select count(1) as cnt, sum(hashtext(row(_COLS_)::text)::bigint) as chksum from only _TABLE_';
export const countOnlySql = 'select count(1) as cnt from only _TABLE_';
export const defaultCompareFmt = '%(cnt)d rows, checksum=%(chksum)s';
export const countOnlyFmt = '%(cnt)d rows';

export interface CompareQueryOptions {
  countOnly: boolean;
  /** `compare_sql`; ignored with --count-only. */
  compareSql?: string;
}

/**
 * The query for one side: `table` as stored (`schema.name`), `columns` the common ones in
 * one order for both sides, `condition` the handler's copy condition (null = every row).
 */
export function compareQuery(
  table: string,
  columns: readonly string[],
  condition: string | null,
  options: CompareQueryOptions,
): string {
  const template = options.countOnly ? countOnlySql : (options.compareSql ?? defaultCompareSql);
  const sql = template
    .replaceAll('_TABLE_', quoteFqname(table))
    .replaceAll('_COLS_', columns.map(quoteIdent).join(', '));
  return condition === null ? sql : `${sql} where ${condition}`;
}

/** The columns of a table, in their order (dropped ones left out). */
export async function tableColumns(db: pg.ClientBase, table: string): Promise<string[]> {
  const { rows } = await db.query<{ attname: string }>(
    `select attname from pg_attribute
      where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
    [quoteFqname(table)],
  );
  return rows.map((r) => r.attname);
}

/** Python's `%(name)s` / `%(name)d` formatting over one result row (NULL prints as None). */
export function formatResult(format: string, row: Record<string, unknown>): string {
  return format.replace(/%\(([^)]*)\)([sdi])|%%/g, (whole, name: string | undefined, kind) => {
    if (whole === '%%' || name === undefined) return '%';
    if (!(name in row)) {
      throw new SkytoolsError(
        'BAD_CONFIG',
        `compare_fmt names ${name}, which the compare query does not return (columns: ${Object.keys(row).join(', ')})`,
        { key: 'compare_fmt' },
      );
    }
    const value = row[name];
    if (value === null || value === undefined) return 'None';
    if (kind === 's') return String(value);
    return /^-?\d+/.exec(String(value))?.[0] ?? String(value);
  });
}

/** Both sides' results are equal when every column is (as the server printed them). */
export function sameResult(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const x = a[key] ?? null;
    const y = b[key] ?? null;
    if ((x === null ? null : String(x)) !== (y === null ? null : String(y))) return false;
  }
  return true;
}

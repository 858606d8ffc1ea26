/**
 * A table's primary key as compare and repair use it: the columns in key order with their
 * types, and the SQL conditions over it (a range between two key values, a set of keys).
 * Key values travel as text (the types' text forms) and are cast back on the server, so
 * any key type works and nothing is parsed in JavaScript.
 */
import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import { quoteFqname } from '../table-names.js';

export interface TableKey {
  columns: string[];
  /** `format_type` of each column, usable as a cast target. */
  types: string[];
}

/** A key value (or a prefix of one: a range bound on the first columns), as text. */
export type KeyValue = string[];

/** The primary key of `relation` (`schema.name`); a table without one is refused. */
export async function primaryKey(
  db: pg.ClientBase,
  relation: string,
  where: { table: string; node: string },
): Promise<TableKey> {
  const { rows } = await db.query<{ attname: string; type: string }>(
    `select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
       from pg_catalog.pg_index i
       join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
      where i.indrelid = $1::regclass and i.indisprimary
      order by pg_catalog.array_position(i.indkey::int2[], a.attnum)`,
    [quoteFqname(relation)],
  );
  if (rows.length === 0) {
    throw new SkytoolsError(
      'NO_PRIMARY_KEY',
      `table ${where.table} has no primary key on node ${where.node}: compare and repair need one`,
      { table: where.table, node: where.node },
    );
  }
  return { columns: rows.map((r) => r.attname), types: rows.map((r) => r.type) };
}

/** Both sides must key the table alike: the rows are matched by it. */
export function sameKey(a: TableKey, b: TableKey, table: string): void {
  if (a.columns.join('\u0000') !== b.columns.join('\u0000')) {
    throw new SkytoolsError(
      'KEY_MISMATCH',
      `table ${table}: the primary keys differ (source: ${a.columns.join(', ')}; here: ${b.columns.join(', ')})`,
      { table },
    );
  }
}

/** `"a", "b"`: the key columns, optionally of a table alias. */
export function keyColumns(key: TableKey, alias?: string): string {
  const prefix = alias === undefined ? '' : `${alias}.`;
  return key.columns.map((c) => prefix + quoteIdent(c)).join(', ');
}

/** `array["a"::text, "b"::text]`: the key as a text array in a select list. */
export function keyAsText(key: TableKey): string {
  return `array[${key.columns.map((c) => `${quoteIdent(c)}::text`).join(', ')}]`;
}

/** A condition with its parameter values. */
export interface Condition {
  sql: string;
  values: unknown[];
}

/**
 * Where a condition's values go: parameters (`$n`, the array collects their values), or
 * `inline` as quoted literals, for statements that take no parameters (COPY).
 */
export type Values = unknown[] | 'inline';

/** `$n` for `value` (pushed onto `values`), or its literal. */
function valueRef(values: Values, value: string | null | readonly (string | null)[]): string {
  if (values !== 'inline') {
    values.push(value);
    return `$${values.length}`;
  }
  if (typeof value === 'string' || value === null) return quoteLiteral(value);
  return `array[${value.map(quoteLiteral).join(', ')}]::text[]`;
}

/** `(k1, k2) op ($n::t1, $n+1::t2)` over the first `bound.length` key columns. */
function compareTo(key: TableKey, bound: KeyValue, op: string, values: Values): string {
  const cols: string[] = [];
  const params: string[] = [];
  bound.forEach((value, i) => {
    cols.push(quoteIdent(key.columns[i] as string));
    params.push(`${valueRef(values, value)}::${key.types[i]}`);
  });
  return `(${cols.join(', ')}) ${op} (${params.join(', ')})`;
}

/**
 * Rows with lo < key <= hi (a missing bound is open). `values` is the parameter list the
 * condition's `$n` continue.
 */
export function rangeCondition(
  key: TableKey,
  lo: KeyValue | null,
  hi: KeyValue | null,
  values: Values,
): string {
  const parts: string[] = [];
  if (lo !== null) parts.push(compareTo(key, lo, '>', values));
  if (hi !== null) parts.push(compareTo(key, hi, '<=', values));
  return parts.length === 0 ? 'true' : parts.join(' and ');
}

/** Rows whose key is (or with `negate`, is not) one of `keys` (full keys). */
export function keySetCondition(
  key: TableKey,
  keys: readonly KeyValue[],
  values: Values,
  negate = false,
): string {
  if (keys.length === 0) return negate ? 'true' : 'false';
  const names = key.columns.map((_, i) => `k${i}`);
  const arrays = key.columns.map(
    (_, i) =>
      `${valueRef(
        values,
        keys.map((k) => k[i] ?? null),
      )}::text[]`,
  );
  const casts = names.map((n, i) => `m.${n}::${key.types[i]}`).join(', ');
  const set = `select ${casts} from unnest(${arrays.join(', ')}) as m(${names.join(', ')})`;
  return `(${keyColumns(key)}) ${negate ? 'not in' : 'in'} (${set})`;
}

/** `"a" = 'x' and "b" = 'y'`: one key as literals, for the statements repair writes. */
export function keyLiterals(key: TableKey, value: KeyValue): string {
  return key.columns
    .map((c, i) => `${quoteIdent(c)} = ${quoteLiteral(value[i] ?? null)}`)
    .join(' and ');
}

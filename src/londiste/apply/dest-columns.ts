/**
 * What the apply needs to know of a destination table: its columns with the type each text
 * value is cast to, and its unique indexes. Types are named by their catalog name
 * (`pg_catalog."bit"`, `pg_catalog.bpchar`, `public._mytype`), which carries no typmod: the
 * cast only parses the text, and the assignment into the column then checks lengths and
 * precision exactly as a one-row INSERT of the text would.
 */
import type { Queryable } from '../../db/queryable.js';
import { SkytoolsError } from '../../errors.js';
import { quoteFqname } from '../table-names.js';

const columnsSql = `
select a.attname, pg_catalog.format('%I.%I', n.nspname, t.typname) as typename
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_type t on t.oid = a.atttypid
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
 where a.attrelid = pg_catalog.to_regclass($1) and a.attnum > 0 and not a.attisdropped
 order by a.attnum`;

// Unique and exclusion indexes with their plain columns; a deferred one counts as exclusion
// (its check time differs from a one-row statement's).
const uniqueSql = `
select i.indisexclusion or not i.indimmediate as strict,
       array(select a.attname::text from pg_catalog.unnest(i.indkey) k
               join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k) as columns
  from pg_catalog.pg_index i
 where i.indrelid = pg_catalog.to_regclass($1) and (i.indisunique or i.indisexclusion)`;

export interface UniqueIndex {
  columns: readonly string[];
  /** An exclusion constraint or a deferred unique one. */
  strict: boolean;
}

export interface DestTable {
  /** Column name → type to cast a text value to. */
  readonly columns: ReadonlyMap<string, string>;
  readonly unique: readonly UniqueIndex[];
}

export async function loadDestTable(db: Queryable, destTable: string): Promise<DestTable> {
  const name = quoteFqname(destTable);
  const result = await db.query<{ attname: string; typename: string }>(columnsSql, [name]);
  if (result.rows.length === 0) {
    throw new SkytoolsError('MISSING_OBJECT', `Table not found: ${destTable}`, {
      table: destTable,
    });
  }
  const unique = await db.query<{ strict: boolean; columns: string[] }>(uniqueSql, [name]);
  return {
    columns: new Map(result.rows.map((row) => [row.attname, row.typename])),
    unique: unique.rows,
  };
}

/**
 * Whether an UPDATE of many rows (by these key columns, keys distinct, the key itself not
 * changed) could fail where the same rows updated one by one would not: only when a unique
 * index does not hold the whole key (so two rows' new values can meet), or is an exclusion
 * or deferred constraint.
 */
export function updateMayConflict(table: DestTable, keyColumns: readonly string[]): boolean {
  return table.unique.some(
    (index) => index.strict || !keyColumns.every((key) => index.columns.includes(key)),
  );
}

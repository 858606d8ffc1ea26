/**
 * The columns of a destination table and the type each value is cast to. Types are named
 * by their catalog name (`pg_catalog."bit"`, `pg_catalog.bpchar`, `public._mytype`), which
 * carries no typmod: the cast only parses the text, and the assignment into the column then
 * checks lengths and precision exactly as a one-row INSERT of the text would.
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

/** Column name → type to cast a text value to. */
export type DestColumns = ReadonlyMap<string, string>;

export async function loadDestColumns(db: Queryable, destTable: string): Promise<DestColumns> {
  const result = await db.query<{ attname: string; typename: string }>(columnsSql, [
    quoteFqname(destTable),
  ]);
  if (result.rows.length === 0) {
    throw new SkytoolsError('MISSING_OBJECT', `Table not found: ${destTable}`, {
      table: destTable,
    });
  }
  return new Map(result.rows.map((row) => [row.attname, row.typename]));
}

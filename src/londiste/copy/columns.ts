/**
 * The columns a table copy moves: those both sides have, by name (spec §6.4), in the source's
 * order. Columns only one side has are named in a warning; a key column missing on either
 * side stops the copy, since replay could then not find the rows it changes. Generated
 * columns of the destination are left to compute themselves.
 */
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { Logger } from '../../pgq/logger.js';
import { quoteFqname } from '../table-names.js';

/** One column as the catalog describes it. */
export interface ColumnInfo {
  name: string;
  /** format_type(atttypid, atttypmod). */
  type: string;
  typeOid: number;
  generated: boolean;
  key: boolean;
}

/** A table as the copy needs to know it on one side. */
export interface RelationInfo {
  oid: number;
  /** `r` plain table, `p` partitioned table (COPY and TRUNCATE treat them differently). */
  kind: string;
  columns: ColumnInfo[];
  /** server_version_num / 10000. */
  serverMajor: number;
}

const relationSql = `
select c.oid::int8 as oid, c.relkind::text as kind,
       current_setting('server_version_num')::int / 10000 as major
  from pg_catalog.pg_class c
 where c.oid = pg_catalog.to_regclass($1)`;

const columnsSql = `
select a.attname::text as name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
       a.atttypid::int8 as type_oid,
       a.attgenerated <> '' as generated,
       exists (select 1 from pg_catalog.pg_index i
                where i.indrelid = a.attrelid and i.indisprimary
                  and a.attnum = any (i.indkey)) as key
  from pg_catalog.pg_attribute a
 where a.attrelid = $1::oid and a.attnum > 0 and not a.attisdropped
 order by a.attnum`;

/** The table on one side, or a clear error naming it and the side when it does not exist. */
export async function describeRelation(
  client: pg.ClientBase,
  table: string,
  side: 'source' | 'destination',
): Promise<RelationInfo> {
  const { rows } = await client.query<{ oid: string; kind: string; major: number }>(relationSql, [
    quoteFqname(table),
  ]);
  const found = rows[0];
  if (!found) {
    throw new SkytoolsError(
      'MISSING_OBJECT',
      `copy: table ${table} does not exist on the ${side}`,
      {
        table,
        side,
      },
    );
  }
  if (found.kind !== 'r' && found.kind !== 'p') {
    throw new SkytoolsError(
      'BAD_INPUT',
      `copy: ${table} on the ${side} is not a table (relkind ${found.kind})`,
      { table, side },
    );
  }
  const columns = await client.query<{
    name: string;
    type: string;
    type_oid: string;
    generated: boolean;
    key: boolean;
  }>(columnsSql, [found.oid]);
  return {
    oid: Number(found.oid),
    kind: found.kind,
    serverMajor: found.major,
    columns: columns.rows.map((row) => ({
      name: row.name,
      type: row.type,
      typeOid: Number(row.type_oid),
      generated: row.generated,
      key: row.key,
    })),
  };
}

export interface CommonColumns {
  /** Names in the source's order. */
  names: string[];
  /** The same, quoted. */
  quoted: string[];
  /** Whether COPY BINARY can carry them: same server major, same built-in types. */
  binary: boolean;
  /** A generated column of the source is copied: COPY of a table cannot read it, a query can. */
  sourceGenerated: boolean;
}

// Types the server defines itself have the same OID in every database of every version;
// binary COPY of arrays and records carries element OIDs, so only those travel as binary.
const firstUserOid = 16384;

/**
 * The common columns of the two sides. Throws when a key column (of either side's primary
 * key) is not on the other side; warns, naming them, about the other columns only one side has.
 */
export function commonColumns(
  table: string,
  source: RelationInfo,
  dest: RelationInfo,
  log: Logger,
): CommonColumns {
  const destByName = new Map(dest.columns.map((column) => [column.name, column]));
  const sourceNames = new Set(source.columns.map((column) => column.name));
  const missingKeys = [
    ...source.columns
      .filter((c) => c.key && !destByName.has(c.name))
      .map((c) => `${c.name} (destination)`),
    ...dest.columns
      .filter((c) => c.key && !sourceNames.has(c.name))
      .map((c) => `${c.name} (source)`),
  ];
  if (missingKeys.length > 0) {
    throw new SkytoolsError(
      'BAD_INPUT',
      `copy of ${table}: key column missing: ${missingKeys.join(', ')}`,
      { table, columns: missingKeys },
    );
  }
  const onlySource = source.columns.filter((c) => !destByName.has(c.name)).map((c) => c.name);
  const onlyDest = dest.columns
    .filter((c) => !sourceNames.has(c.name) && !c.generated)
    .map((c) => c.name);
  if (onlySource.length > 0 || onlyDest.length > 0) {
    log.warn(
      { table, onlySource, onlyDest },
      `copy of ${table}: columns not copied: ${[
        ...onlySource.map((name) => `${name} (not on the destination)`),
        ...onlyDest.map((name) => `${name} (not on the source)`),
      ].join(', ')}`,
    );
  }
  const pairs = source.columns.flatMap((column) => {
    const other = destByName.get(column.name);
    return other && !other.generated ? [[column, other] as const] : [];
  });
  if (pairs.length === 0) {
    throw new SkytoolsError('BAD_INPUT', `copy of ${table}: no common columns`, { table });
  }
  const binary =
    source.serverMajor === dest.serverMajor &&
    pairs.every(
      ([a, b]) => a.typeOid === b.typeOid && a.type === b.type && a.typeOid < firstUserOid,
    );
  return {
    names: pairs.map(([column]) => column.name),
    quoted: pairs.map(([column]) => quoteIdent(column.name)),
    binary,
    sourceGenerated: pairs.some(([column]) => column.generated),
  };
}

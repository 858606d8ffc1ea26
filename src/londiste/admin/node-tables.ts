/** What a node holds: its set's tables and sequences, and (on a root) the tables it could add. */
import type { Queryable } from '../../db/queryable.js';
import { type TableInfo, tableInfoFromRow, tableListSql } from '../table-state.js';

export async function readTables(db: Queryable, queue: string): Promise<TableInfo[]> {
  const { rows } = await db.query(tableListSql, [queue]);
  return rows.map(tableInfoFromRow);
}

export interface SeqInfo {
  seqName: string;
  lastValue: string;
  local: boolean;
}

export async function readSeqs(db: Queryable, queue: string): Promise<SeqInfo[]> {
  const { rows } = await db.query(
    'select seq_name, last_value::text as last_value, local from londiste.get_seq_list($1)',
    [queue],
  );
  return rows.map((r) => ({
    seqName: r.seq_name as string,
    lastValue: r.last_value as string,
    local: r.local as boolean,
  }));
}

/** Schemas of the queue machinery, never replicated. */
const systemSchemas = `('pgq', 'pgq_ext', 'pgq_node', 'pgq_coop', 'londiste', 'pg_catalog', 'information_schema')`;

/** Stored names (`schema.name`) of the database's plain tables (`r`) or sequences (`S`). */
export async function localRelations(db: Queryable, kind: 'r' | 'S'): Promise<string[]> {
  const { rows } = await db.query(
    `select n.nspname || '.' || c.relname as name
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind = $1 and n.nspname not in ${systemSchemas}
        and n.nspname !~ '^pg_(toast|temp)' order by 1`,
    [kind],
  );
  return rows.map((r) => r.name as string);
}

export interface RelationFacts {
  /** The relkind, null when there is no such relation. */
  kind: string | null;
  hasPrimaryKey: boolean;
}

/** The relation `schema.name`, found by its exact (stored) parts, never by SQL parsing. */
export async function relationFacts(
  db: Queryable,
  schema: string,
  name: string,
): Promise<RelationFacts> {
  const { rows } = await db.query(
    `select c.relkind::text as kind,
            exists (select 1 from pg_catalog.pg_constraint p where p.conrelid = c.oid and p.contype = 'p') as pk
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2`,
    [schema, name],
  );
  const row = rows[0];
  return { kind: (row?.kind as string | undefined) ?? null, hasPrimaryKey: row?.pk === true };
}

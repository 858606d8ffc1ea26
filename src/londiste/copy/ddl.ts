/**
 * The indexes and constraints a copy drops before its COPY and builds again after it, in the
 * same transaction (spec §6.4): building an index once over the loaded rows is cheaper than
 * keeping it up to date row by row. What is dropped is captured first as the statements that
 * re-create it exactly (pg_get_indexdef, pg_get_constraintdef, comments, CLUSTER and REPLICA
 * IDENTITY marks), so the table ends with the same definitions it had.
 *
 * Left in place: NOT NULL (checked per row for free); foreign keys (the worker drops them
 * before the copy, and under session_replication_role = replica their triggers do not fire);
 * check constraints (checking each row as COPY writes it evaluates the same expressions that
 * re-validating would, without re-validating's extra scan of the table); anything another object depends on (a foreign key of another
 * table on our unique index, a view grouping by our primary key); what the table inherits
 * or a partitioned parent attached (it cannot be dropped on its own); invalid indexes;
 * indexes in another tablespace (pg_get_indexdef does not say which); the indexes of a
 * partitioned table and of its partitions (copyTable leaves a partitioned table's alone). Rules and inheritance
 * stay too: COPY fires no rules and does not look at parents, so dropping them saves nothing.
 */
import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../db/quote.js';
import { quoteFqname } from '../table-names.js';

/** The statements that drop and re-create what the copy takes away. */
export interface DroppedDdl {
  /** Run before the COPY. */
  drop: string[];
  /** Run after it, in this order. */
  create: string[];
}

interface IndexRow {
  index_name: string;
  /** The name alone: CLUSTER ON and REPLICA IDENTITY take it without the schema. */
  index_local: string;
  index_def: string;
  clustered: boolean;
  replident: boolean;
  index_comment: string | null;
  con_name: string | null;
  con_def: string | null;
  con_comment: string | null;
}

// Indexes of the table, with the constraint each one backs (primary key, unique, exclusion).
const indexesSql = `
select pg_catalog.format('%I.%I', n.nspname, ic.relname) as index_name,
       pg_catalog.quote_ident(ic.relname) as index_local,
       pg_catalog.pg_get_indexdef(i.indexrelid) as index_def,
       i.indisclustered as clustered,
       i.indisreplident as replident,
       pg_catalog.obj_description(i.indexrelid, 'pg_class') as index_comment,
       con.conname::text as con_name,
       pg_catalog.pg_get_constraintdef(con.oid) as con_def,
       pg_catalog.obj_description(con.oid, 'pg_constraint') as con_comment
  from pg_catalog.pg_index i
  join pg_catalog.pg_class ic on ic.oid = i.indexrelid
  join pg_catalog.pg_namespace n on n.oid = ic.relnamespace
  left join pg_catalog.pg_constraint con
         on con.conindid = i.indexrelid and con.conrelid = i.indrelid
        and con.contype in ('p', 'u', 'x')
 where i.indrelid = $1::oid
   and i.indisvalid
   and ic.reltablespace = 0
   and not exists (select 1 from pg_catalog.pg_inherits h where h.inhrelid = i.indexrelid)
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.refclassid = 'pg_catalog.pg_class'::regclass
                      and d.refobjid = i.indexrelid and d.deptype = 'n')
   and (con.oid is null or (
          con.conislocal and con.coninhcount = 0 and con.conparentid = 0
          and not exists (select 1 from pg_catalog.pg_depend d
                           where d.refclassid = 'pg_catalog.pg_constraint'::regclass
                             and d.refobjid = con.oid and d.deptype = 'n')))
 order by ic.relname`;

/** What to drop on the destination table `oid` (stored name `table`) and how to get it back. */
export async function captureDdl(
  client: pg.ClientBase,
  table: string,
  oid: number,
): Promise<DroppedDdl> {
  const target = quoteFqname(table);
  const { rows } = await client.query<IndexRow>(indexesSql, [oid]);
  const drop: string[] = [];
  const constraints: string[] = [];
  const indexes: string[] = [];
  const after: string[] = [];
  for (const row of rows) {
    if (row.con_name !== null && row.con_def !== null) {
      const name = quoteIdent(row.con_name);
      drop.push(`alter table ${target} drop constraint ${name}`);
      constraints.push(`add constraint ${name} ${row.con_def}`);
      if (row.con_comment !== null) {
        after.push(
          `comment on constraint ${name} on ${target} is ${quoteLiteral(row.con_comment)}`,
        );
      }
    } else {
      drop.push(`drop index ${row.index_name}`);
      indexes.push(row.index_def);
    }
    if (row.index_comment !== null) {
      after.push(`comment on index ${row.index_name} is ${quoteLiteral(row.index_comment)}`);
    }
    if (row.clustered) after.push(`alter table ${target} cluster on ${row.index_local}`);
    if (row.replident) {
      after.push(`alter table ${target} replica identity using index ${row.index_local}`);
    }
  }
  // One ALTER TABLE for the constraints: PostgreSQL builds their indexes one after another,
  // but plans the work once.
  const create = [
    ...(constraints.length > 0 ? [`alter table ${target} ${constraints.join(', ')}`] : []),
    ...indexes,
    ...after,
  ];
  return { drop, create };
}

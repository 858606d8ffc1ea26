/**
 * `add-table --create` / `--create-full` and `add-seq --create`: make the missing local
 * object from the copy source's catalog. --create: the columns (types, NOT NULL) and the
 * primary key; --create-full adds the other indexes and the check, unique and exclusion
 * constraints. Foreign keys, defaults, triggers and grants are left out: the referenced
 * tables and sequences may not exist here, and Londiste manages foreign keys around copies.
 * The statements run in one transaction (printed instead with --dry-run).
 */
import type pg from 'pg';
import type { AdminSession } from '../../cascade/admin/session.js';
import type { Queryable } from '../../db/queryable.js';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import { quoteFqname, splitFqname } from '../table-names.js';

async function tableOid(db: Queryable, table: string): Promise<number> {
  const { schema, name } = splitFqname(table);
  const { rows } = await db.query(
    `select c.oid::int8::text as oid from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p')`,
    [schema, name],
  );
  const oid = rows[0]?.oid as string | undefined;
  if (oid === undefined) {
    throw new SkytoolsError('MISSING_OBJECT', `Table does not exist on the copy source: ${table}`, {
      table,
    });
  }
  return Number(oid);
}

/** The statements that make `dest` like the source's `table`. */
export async function createTableStatements(
  source: Queryable,
  table: string,
  dest: string,
  full: boolean,
): Promise<{ statements: string[]; notes: string[] }> {
  const oid = await tableOid(source, table);
  const { rows: columns } = await source.query(
    `select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull
       from pg_catalog.pg_attribute a
      where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [oid],
  );
  const { rows: constraints } = await source.query(
    `select conname, contype::text as contype, pg_catalog.pg_get_constraintdef(oid) as def
       from pg_catalog.pg_constraint where conrelid = $1 order by contype <> 'p', conname`,
    [oid],
  );
  const pk = constraints.find((c) => c.contype === 'p');
  if (pk === undefined) {
    throw new SkytoolsError('MISSING_OBJECT', `Primary key missing on table: ${table}`, { table });
  }
  const target = quoteFqname(dest);
  const destName = splitFqname(dest).name;
  const sameName = destName === splitFqname(table).name;
  const cols = columns.map(
    (c) =>
      `${quoteIdent(c.attname as string)} ${c.type as string}${c.attnotnull ? ' not null' : ''}`,
  );
  const statements = [`create table ${target} (${cols.join(', ')})`];
  const notes = [`Creating ${dest}`];
  const pkName = sameName ? (pk.conname as string) : `${destName}_pkey`;
  statements.push(
    `alter table only ${target} add constraint ${quoteIdent(pkName)} ${pk.def as string}`,
  );
  notes.push(`Creating ${pkName}`);
  if (!full) return { statements, notes };
  if (!sameName) {
    throw new SkytoolsError(
      'BAD_OPTIONS',
      `--create-full copies index and constraint names: it needs --dest-table to have the name of ${table}`,
      { table, dest },
    );
  }
  for (const c of constraints) {
    if (c.contype === 'c' || c.contype === 'u' || c.contype === 'x') {
      statements.push(
        `alter table only ${target} add constraint ${quoteIdent(c.conname as string)} ${c.def as string}`,
      );
      notes.push(`Creating ${c.conname as string}`);
    } else if (c.contype === 'f') {
      notes.push(
        `Skipping foreign key ${c.conname as string} (Londiste restores foreign keys after copies)`,
      );
    }
  }
  // Indexes that back no constraint: their definition names the source table, which is the
  // same stored name here (sameName and same schema, or the index would go to another table).
  if (splitFqname(table).schema === splitFqname(dest).schema) {
    const { rows: indexes } = await source.query(
      `select c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) as def
         from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
        where i.indrelid = $1
          and not exists (select 1 from pg_catalog.pg_constraint k where k.conindid = i.indexrelid)
        order by c.relname`,
      [oid],
    );
    for (const index of indexes) {
      statements.push(index.def as string);
      notes.push(`Creating ${index.relname as string}`);
    }
  }
  return { statements, notes };
}

/** The schema of `name` when it is missing here, then `statements`, in one transaction. */
export async function runCreate(
  session: AdminSession,
  nodeName: string,
  local: pg.Client,
  name: string,
  statements: string[],
  notes: string[],
): Promise<void> {
  const { schema } = splitFqname(name);
  const { rows } = await local.query('select 1 from pg_catalog.pg_namespace where nspname = $1', [
    schema,
  ]);
  const all =
    rows.length === 0 ? [`create schema ${quoteIdent(schema)}`, ...statements] : statements;
  for (const note of notes) session.out.info(note);
  if (session.dryRun) {
    for (const sql of all) await session.execute(nodeName, local, sql, []);
    return;
  }
  await local.query('begin');
  try {
    for (const sql of all) await local.query(sql);
    await local.query('commit');
  } catch (error) {
    await local.query('rollback').catch(() => {});
    throw new SkytoolsError(
      'DB_ERROR',
      `creating ${name} failed: ${(error as Error).message}`,
      { name },
      { cause: error },
    );
  }
}

export function createSequenceStatements(seq: string): { statements: string[]; notes: string[] } {
  return { statements: [`create sequence ${quoteFqname(seq)}`], notes: [`Creating ${seq}`] };
}

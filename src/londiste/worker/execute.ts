/**
 * The replay of an EXECUTE event (spec §6.6) at its queue position, inside the batch's
 * transaction: role `local` (the script's own changes make no events), execute_start
 * (skipped when this database ran the file already), the attribute lines of the script
 * checked against the local tables and objects (`--*-- Need-Table: ...`), the statements run
 * with `@name@` tags replaced, execute_finish, and back to `replica`.
 */
import type pg from 'pg';
import { callRet } from '../../cascade/node-calls.js';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { Event } from '../../pgq/event.js';
import type { Logger } from '../../pgq/logger.js';
import { fqname, quoteFqname } from '../table-names.js';
import type { TableInfo } from '../table-state.js';
import { destOf } from './tables.js';

/** Attribute keys, lower-cased, with the objects each names. */
export type ExecuteAttrs = Map<string, string[]>;

const knownKeys = [
  'local-table',
  'local-sequence',
  'local-destination',
  'need-table',
  'need-sequence',
  'need-function',
  'need-schema',
  'need-view',
];

/** ev_extra2 (urlencoded `Key=v1,v2&...`) as attributes. */
export function parseExecuteAttrs(text: string | null): ExecuteAttrs {
  const attrs: ExecuteAttrs = new Map();
  for (const [key, value] of new URLSearchParams(text ?? '')) {
    const name = key.trim().toLowerCase();
    if (!knownKeys.includes(name)) {
      throw new SkytoolsError('BAD_EVENT', `EXECUTE: unknown attribute ${key}`, { key });
    }
    const objects = value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    attrs.set(name, [...(attrs.get(name) ?? []), ...objects]);
  }
  return attrs;
}

async function exists(db: pg.ClientBase, sql: string, values: unknown[]): Promise<boolean> {
  const { rows } = await db.query(sql, values);
  return rows[0]?.found === true;
}

/** Whether one named object of one attribute matches this node. */
async function matches(
  db: pg.ClientBase,
  queue: string,
  key: string,
  object: string,
  tables: ReadonlyMap<string, TableInfo>,
): Promise<boolean> {
  switch (key) {
    case 'local-table':
      return tables.has(fqname(object));
    case 'local-destination': {
      const table = tables.get(fqname(object));
      if (table === undefined) return false;
      return exists(db, 'select londiste.find_table_oid($1) is not null as found', [destOf(table)]);
    }
    case 'local-sequence':
      return exists(
        db,
        'select exists (select 1 from londiste.get_seq_list($1) where seq_name = $2 and local) as found',
        [queue, fqname(object)],
      );
    case 'need-table':
      return exists(db, 'select londiste.find_table_oid($1) is not null as found', [object]);
    case 'need-sequence':
      return exists(db, 'select londiste.find_seq_oid($1) is not null as found', [object]);
    case 'need-view':
      return exists(db, "select londiste.find_rel_oid($1, 'v') is not null as found", [object]);
    case 'need-schema':
      return exists(
        db,
        'select exists (select 1 from pg_catalog.pg_namespace where nspname = $1) as found',
        [object],
      );
    case 'need-function': {
      const m = /^(.*)\((\d+)\)$/.exec(object);
      const name = m ? (m[1] as string) : object;
      const dot = name.lastIndexOf('.');
      return exists(
        db,
        `select exists (select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          where p.proname = $1 and ($2::text is null or n.nspname = $2) and ($3::int is null or p.pronargs = $3)) as found`,
        [
          dot < 0 ? name : name.slice(dot + 1),
          dot < 0 ? null : name.slice(0, dot),
          m ? Number(m[2]) : null,
        ],
      );
    }
    default:
      return false;
  }
}

/** run: every object matches (or no attributes); skip: none does; else a partial match. */
export async function needExecute(
  db: pg.ClientBase,
  queue: string,
  attrs: ExecuteAttrs,
  tables: ReadonlyMap<string, TableInfo>,
): Promise<boolean> {
  let found = 0;
  let total = 0;
  for (const [key, objects] of attrs) {
    for (const object of objects) {
      total++;
      if (await matches(db, queue, key, object, tables)) found++;
    }
  }
  if (total === 0 || found === total) return true;
  if (found === 0) return false;
  throw new SkytoolsError('BAD_EVENT', 'SQL only partially matches local setup', {
    matched: found,
    listed: total,
  });
}

/** `@name@` of local tables, destinations and sequences replaced by the quoted local name. */
export function replaceTags(
  sql: string,
  attrs: ExecuteAttrs,
  tables: ReadonlyMap<string, TableInfo>,
): string {
  let out = sql;
  const put = (object: string, replacement: string) => {
    out = out.replaceAll(`@${object}@`, replacement);
  };
  for (const key of ['local-table', 'local-destination']) {
    for (const object of attrs.get(key) ?? []) {
      const table = tables.get(fqname(object));
      put(object, quoteFqname(table === undefined ? object : destOf(table)));
    }
  }
  for (const object of attrs.get('local-sequence') ?? []) put(object, quoteFqname(object));
  return out;
}

export async function replayExecute(
  db: pg.ClientBase,
  queue: string,
  event: Event,
  tables: ReadonlyMap<string, TableInfo>,
  log: Logger,
): Promise<void> {
  const file = event.extra1 ?? '';
  const sql = event.data ?? '';
  const context = { queue, file };
  await db.query("select londiste.set_session_replication_role('local', true)");
  const start = await callRet(
    db,
    'select * from londiste.execute_start($1, $2, $3, false, $4)',
    [queue, file, sql, event.extra2],
    context,
  );
  if (start.ret_code > 200) {
    log.warn({ file }, `Skipping execution of ${quoteIdent(file)}: ${start.ret_note}`);
  } else {
    const attrs = parseExecuteAttrs(event.extra2);
    if (await needExecute(db, queue, attrs, tables)) {
      log.info({ file }, `${file}: executing sql`);
      await db.query(replaceTags(sql, attrs, tables));
    } else {
      log.info({ file }, `${file}: This SQL does not need to run on this node.`);
    }
    await callRet(db, 'select * from londiste.execute_finish($1, $2)', [queue, file], context);
  }
  await db.query("select londiste.set_session_replication_role('replica', true)");
}

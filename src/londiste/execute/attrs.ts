/**
 * The attributes of an EXECUTE script (spec §6.6): the `--*-- Key: v1, v2` lines at its top,
 * as the file has them and as the event carries them (ev_extra2, urlencoded), checked against
 * a node's tables and objects, and the `@name@` tags they allow in the statements.
 */
import type pg from 'pg';
import { SkytoolsError } from '../../errors.js';
import { urlencode } from '../../pgq/urlencode.js';
import { fqname, quoteFqname } from '../table-names.js';
import { destOf, type TableInfo } from '../table-state.js';

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

/**
 * A script file's attributes: the `--*-- Key: v1, v2` lines before its first statement (blank
 * lines and plain comments may come between them); a value list that ends with a comma goes on
 * in the next `--*--` line. An unknown key is refused, naming the line.
 */
export function scriptAttrs(script: string, file: string): ExecuteAttrs {
  const attrs: ExecuteAttrs = new Map();
  let pending: string | null = null;
  const lines = script.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line.startsWith('--*--')) {
      if (line === '' || line.startsWith('--')) continue;
      break;
    }
    const body = line.slice(5).trim();
    let key: string | null = pending;
    let values = body;
    if (key === null) {
      const colon = body.indexOf(':');
      key = colon < 0 ? '' : body.slice(0, colon).trim().toLowerCase();
      values = colon < 0 ? '' : body.slice(colon + 1);
      if (!knownKeys.includes(key)) {
        throw new SkytoolsError(
          'BAD_SCRIPT',
          `${file} line ${index + 1}: unknown attribute "${body}" (known: ${knownKeys.join(', ')})`,
          { file, line: index + 1 },
        );
      }
    }
    const objects = values.split(',').map((v) => v.trim());
    pending = values.trim().endsWith(',') ? key : null;
    attrs.set(key, [...(attrs.get(key) ?? []), ...objects.filter((v) => v !== '')]);
  }
  return attrs;
}

/** Attributes as an EXECUTE event carries them in ev_extra2: `key=v1,v2&...`, urlencoded. */
export function encodeExecuteAttrs(attrs: ExecuteAttrs): string {
  return urlencode([...attrs].map(([key, objects]) => [key, objects.join(',')] as const));
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

/**
 * What a database has of the five schemas: ours (and which release), upstream's as an
 * extension or as plain SQL, something else under the same name, or nothing. Read through
 * the catalogs and the schemas' own `version()` / `skytools_version()` functions.
 */
import type pg from 'pg';
import { quoteIdent } from './quote.js';
import { knownSchemas, type SchemaName } from './sql-files.js';

export type SchemaState =
  | { schema: SchemaName; kind: 'absent' }
  | { schema: SchemaName; kind: 'ours'; release: string; revision: number }
  | {
      schema: SchemaName;
      kind: 'upstream-extension';
      version: string;
      /** Role that owns the extension: only it or a superuser may drop it. */
      owner: string;
    }
  | { schema: SchemaName; kind: 'upstream-plain'; version: string }
  /** A schema of that name with no `version()`: neither ours nor upstream's. */
  | { schema: SchemaName; kind: 'foreign' };

interface CatalogRow {
  name: SchemaName;
  ext_version: string | null;
  ext_owner: string | null;
  has_schema: boolean;
  ours: boolean;
  has_version: boolean;
}

/** The state of each of the five schemas in the client's database, in dependency order. */
export async function inspectSchemas(client: pg.ClientBase): Promise<SchemaState[]> {
  const { rows } = await client.query<CatalogRow>(
    `select s.name,
            e.extversion as ext_version,
            e.extowner::regrole::text as ext_owner,
            exists (select 1 from pg_catalog.pg_namespace n where n.nspname = s.name) as has_schema,
            pg_catalog.to_regprocedure(pg_catalog.quote_ident(s.name) || '.skytools_version()') is not null as ours,
            pg_catalog.to_regprocedure(pg_catalog.quote_ident(s.name) || '.version()') is not null as has_version
       from unnest($1::text[]) with ordinality as s(name, ord)
       left join pg_catalog.pg_extension e on e.extname = s.name
      order by s.ord`,
    [knownSchemas],
  );
  const states: SchemaState[] = [];
  for (const row of rows) states.push(await stateOf(client, row));
  return states;
}

async function stateOf(client: pg.ClientBase, row: CatalogRow): Promise<SchemaState> {
  const schema = row.name;
  if (row.ext_version !== null) {
    return {
      schema,
      kind: 'upstream-extension',
      version: row.ext_version,
      owner: row.ext_owner ?? '',
    };
  }
  if (!row.has_schema) return { schema, kind: 'absent' };
  if (row.ours) {
    const release = await scalar(client, `select ${quoteIdent(schema)}.skytools_version()::text`);
    return { schema, kind: 'ours', release, revision: schemaRevision(release) };
  }
  if (!row.has_version) return { schema, kind: 'foreign' };
  const version = await scalar(client, `select ${quoteIdent(schema)}.version()::text`);
  return { schema, kind: 'upstream-plain', version };
}

/** The revision in `skytools X schema N`; 0 when the text has none. */
export function schemaRevision(release: string): number {
  const found = /schema (\d+)/.exec(release);
  return found?.[1] === undefined ? 0 : Number(found[1]);
}

async function scalar(client: pg.ClientBase, sql: string): Promise<string> {
  const { rows } = await client.query<{ v: string | null }>(`${sql} as v`);
  return rows[0]?.v ?? '';
}

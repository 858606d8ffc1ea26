import type pg from 'pg';
import { SkytoolsError } from '../errors.js';
import { quoteIdent } from './quote.js';
import { knownSchemas, type SchemaName, schemaRequires, schemaSql } from './sql-files.js';

export type { SchemaName };

export interface InstallResult {
  schema: SchemaName;
  /** What `<schema>.skytools_version()` said before, `null` on a fresh install. */
  previous: string | null;
  /** What it says now. */
  current: string;
  /** NOTICE and WARNING texts the server sent while installing (e.g. roles to create by hand). */
  notices: string[];
}

/** Serializes installers across sessions: two at once would race on `create ... if not exists`. */
const installLockKey = 'skytools.install';

/**
 * Install or upgrade schemas in one transaction on `client` (a connected client, not a pool:
 * the transaction needs one session). Re-running is a no-op; installing over an older version
 * of ours upgrades in place and keeps queues, consumers, ticks and events. Refuses, changing
 * nothing, when the upstream C extension owns the schema or privileges are missing.
 */
export async function installSchemas(
  client: pg.Client,
  schemas: readonly string[],
): Promise<InstallResult[]> {
  const ordered = orderSchemas(schemas);
  return inInstallTransaction(client, () => installOrdered(client, ordered));
}

/**
 * Run `work` in one transaction that holds the installers' lock; commit unless `rollback`
 * (a dry run: everything done, nothing kept), roll back on failure.
 */
export async function inInstallTransaction<T>(
  client: pg.Client,
  work: () => Promise<T>,
  options: { rollback?: boolean } = {},
): Promise<T> {
  try {
    await client.query('begin');
    await client.query('select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext($1))', [
      installLockKey,
    ]);
    const result = await work();
    await client.query(options.rollback ? 'rollback' : 'commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

/**
 * Install `ordered` (dependency order) inside the caller's install transaction. The schemas
 * in `adopting` were upstream's a moment ago (their extension dropped in this transaction):
 * they are not refused as foreign.
 */
export async function installOrdered(
  client: pg.Client,
  ordered: readonly SchemaName[],
  adopting: ReadonlySet<string> = new Set(),
): Promise<InstallResult[]> {
  const notices: string[] = [];
  const onNotice = (message: { message?: string; code?: string }) => {
    if (!isRerunNotice(message)) notices.push(message.message ?? '');
  };
  client.on('notice', onNotice);
  try {
    for (const schema of ordered) await checkRequired(client, schema, ordered);
    const results: InstallResult[] = [];
    for (const schema of ordered) {
      if (!adopting.has(schema)) await checkInstallable(client, schema);
      const previous = await installedVersion(client, schema);
      notices.length = 0;
      await runSchemaSql(client, schema);
      const current = await installedVersion(client, schema);
      if (current === null) {
        throw new SkytoolsError(
          'INSTALL_FAILED',
          `schema ${schema} installed but ${schema}.skytools_version() is missing`,
          { schema },
        );
      }
      results.push({ schema, previous, current, notices: [...notices] });
    }
    return results;
  } finally {
    client.off('notice', onNotice);
  }
}

/**
 * "already exists, skipping" (class 42) and "does not exist, skipping" (of `drop ... if
 * exists`) come from re-runnable SQL: expected, not news for the user.
 */
function isRerunNotice(message: { message?: string; code?: string }): boolean {
  return (
    message.code?.startsWith('42') === true ||
    /does not exist, skipping$/.test(message.message ?? '')
  );
}

export function orderSchemas(schemas: readonly string[]): SchemaName[] {
  for (const schema of schemas) {
    if (!(knownSchemas as readonly string[]).includes(schema)) {
      throw new SkytoolsError(
        'UNKNOWN_SCHEMA',
        `unknown schema "${schema}"; known: ${knownSchemas.join(', ')}`,
        { schema },
      );
    }
  }
  return knownSchemas.filter((schema) => schemas.includes(schema));
}

export async function installedVersion(client: pg.Client, schema: string): Promise<string | null> {
  const probe = await client.query<{ fn: string | null }>(
    'select pg_catalog.to_regprocedure($1)::text as fn',
    [`${quoteIdent(schema)}.skytools_version()`],
  );
  if (!probe.rows[0]?.fn) return null;
  const { rows } = await client.query<{ v: string }>(
    `select ${quoteIdent(schema)}.skytools_version() as v`,
  );
  return rows[0]?.v ?? null;
}

/**
 * Refuse a schema whose required schemas are neither installed (ours or upstream's: both have
 * `<schema>.version()`) nor part of this install, which orders them first.
 */
async function checkRequired(
  client: pg.Client,
  schema: string,
  installing: readonly string[],
): Promise<void> {
  for (const required of schemaRequires[schema] ?? []) {
    if (installing.includes(required)) continue;
    const { rows } = await client.query<{ db: string; present: boolean }>(
      `select current_database() as db,
              pg_catalog.to_regprocedure(pg_catalog.quote_ident($1) || '.version()') is not null as present`,
      [required],
    );
    const state = rows[0];
    if (state?.present) continue;
    throw new SkytoolsError(
      'MISSING_DEPENDENCY',
      `schema ${schema} needs schema ${required}, which is not installed in database ${state?.db}; install both: skytools install ${required} ${schema}`,
      { schema, requires: required, database: state?.db },
    );
  }
}

/** Everything that would make the install fail half-way, checked before anything changes. */
async function checkInstallable(client: pg.Client, schema: string): Promise<void> {
  const { rows } = await client.query<{
    db: string;
    me: string;
    superuser: boolean;
    can_create: boolean;
    ext_version: string | null;
    schema_owner: string | null;
    owns_schema: boolean | null;
    ours: boolean;
  }>(
    `select current_database() as db, current_user as me,
            (select rolsuper from pg_catalog.pg_roles where rolname = current_user) as superuser,
            has_database_privilege(current_database(), 'CREATE') as can_create,
            (select extversion from pg_catalog.pg_extension where extname = $1) as ext_version,
            (select nspowner::regrole::text from pg_catalog.pg_namespace where nspname = $1) as schema_owner,
            (select pg_has_role(current_user, nspowner, 'USAGE') from pg_catalog.pg_namespace where nspname = $1) as owns_schema,
            pg_catalog.to_regprocedure(pg_catalog.quote_ident($1) || '.skytools_version()') is not null as ours`,
    [schema],
  );
  const state = rows[0];
  if (!state) return;
  const context = { schema, database: state.db, role: state.me };
  if (state.ext_version !== null) {
    throw new SkytoolsError(
      'UPSTREAM_EXTENSION',
      `database ${state.db} has the upstream extension ${schema} ${state.ext_version} installed; skytools will not install over it (the skytools library, tools and ticker work with it as it is; skytools upgrade --adopt converts it in place)`,
      context,
    );
  }
  if (state.schema_owner === null) {
    if (!state.can_create) {
      throw new SkytoolsError(
        'INSUFFICIENT_PRIVILEGE',
        `role ${state.me} may not create schemas in database ${state.db}; run as the database owner, or: GRANT CREATE ON DATABASE ${quoteIdent(state.db)} TO ${quoteIdent(state.me)}`,
        context,
      );
    }
    return;
  }
  if (!state.ours) {
    throw new SkytoolsError(
      'FOREIGN_SCHEMA',
      `schema ${schema} already exists in database ${state.db} but was not installed by skytools; refusing to change it`,
      context,
    );
  }
  if (!state.superuser && !state.owns_schema) {
    throw new SkytoolsError(
      'INSUFFICIENT_PRIVILEGE',
      `schema ${schema} belongs to role ${state.schema_owner}; run the installer as that role or a superuser`,
      context,
    );
  }
}

async function runSchemaSql(client: pg.Client, schema: string): Promise<void> {
  const sql = `set local check_function_bodies = off;\n${schemaSql(schema)}`;
  try {
    await client.query(sql);
  } catch (error) {
    const dbError = error as pg.DatabaseError;
    const where = dbError.position ? ` (in ${fileAt(sql, Number(dbError.position))})` : '';
    throw new SkytoolsError(
      'INSTALL_FAILED',
      `installing schema ${schema} failed${where}: ${dbError.message}`,
      { schema, sqlstate: dbError.code },
      { cause: error },
    );
  }
}

/** The `-- file:` marker (written by schemaSql) that precedes a 1-based character position. */
function fileAt(sql: string, position: number): string {
  const before = sql.slice(0, position);
  const marker = before.lastIndexOf('-- file: ');
  if (marker < 0) return `position ${position}`;
  const file = before.slice(marker + 9, before.indexOf('\n', marker));
  const line = before.slice(before.indexOf('\n', marker) + 1).split('\n').length;
  return `${file} line ${line}`;
}

/**
 * `skytools upgrade` for one database: say what is installed, bring our older schemas to this
 * release (`apply`), and convert upstream's schemas in place into ours (`adopt`), keeping
 * every queue, consumer position, tick, event, node and table registration: the tables are the
 * same, so adoption detaches them from upstream's extensions, drops the then empty
 * extensions, and installs our functions over upstream's (replacing a function keeps its
 * identity, so the triggers on user tables stay and run our code from the next row on).
 * All in one transaction: either every upstream schema of the database moves, or nothing
 * changed and the refusal names what blocks it.
 */
import type pg from 'pg';
import { SkytoolsError } from '../errors.js';
import { failureOf } from './database-error.js';
import { type InstallResult, inInstallTransaction, installOrdered } from './installer.js';
import { quoteIdent, quoteLiteral } from './quote.js';
import { inspectSchemas, type SchemaState, schemaRevision } from './schema-inventory.js';
import { knownSchemas, type SchemaName, shippedVersion } from './sql-files.js';

export interface UpgradeOptions {
  /** Upgrade our schemas that are older than this release. */
  apply?: boolean;
  /** Convert upstream's schemas (extensions or plain SQL) into ours. */
  adopt?: boolean;
  /** Do all of it in a transaction that is rolled back: proves it would work, keeps nothing. */
  notReally?: boolean;
  /** How long a change may wait for a lock before it gives up, changing nothing (default 5 s). */
  lockTimeoutSeconds?: number;
}

/** One schema: what it was, what this release ships, and what was done. */
export interface SchemaReport {
  state: SchemaState;
  shipped: string;
  /** Set when it was upgraded or adopted (or would have been, with `notReally`). */
  result?: InstallResult;
}

export interface DatabaseReport {
  database: string;
  schemas: SchemaReport[];
  changed: boolean;
  notReally: boolean;
}

/** Only upstream's version 3 schemas have the tables ours are built on. */
const adoptableMajor = '3';

export async function upgradeDatabase(
  client: pg.Client,
  options: UpgradeOptions = {},
): Promise<DatabaseReport> {
  const database = await currentDatabase(client);
  const before = await inspectSchemas(client);
  const report = (states: SchemaState[], results: InstallResult[]): DatabaseReport => ({
    database,
    schemas: states.map((state) => ({
      state,
      shipped: shippedVersion(state.schema),
      result: results.find((r) => r.schema === state.schema),
    })),
    changed: results.length > 0,
    notReally: options.notReally === true,
  });
  if (chosen(before, options).length === 0) return report(before, []);
  return inInstallTransaction(
    client,
    async () => {
      await client.query(`set local lock_timeout = '${lockTimeout(options)}s'`);
      // Read again under the installers' lock: another installer may have been first.
      const states = await inspectSchemas(client);
      const schemas = chosen(states, options);
      const adopting = states.filter(isUpstream);
      if (options.adopt) await refuseBlocked(client, database, adopting);
      const ordered = knownSchemas.filter((s) => schemas.includes(s));
      const results = await withLockNames(database, async () => {
        if (options.adopt) {
          await dropExtensions(client, adopting);
          await dropUpstreamInsertEvent(client, adopting);
        }
        return installOrdered(client, ordered, new Set(adopting.map((s) => s.schema)));
      });
      if (options.adopt) await refuseLeftoverC(client, database, adopting);
      return report(states, results);
    },
    { rollback: options.notReally === true },
  );
}

/** The schemas this run changes: our older ones with `apply`, upstream's with `adopt`. */
function chosen(states: readonly SchemaState[], options: UpgradeOptions): SchemaName[] {
  return states
    .filter(
      (s) =>
        (options.apply && s.kind === 'ours' && s.revision < revisionShipped(s.schema)) ||
        (options.adopt && isUpstream(s)),
    )
    .map((s) => s.schema);
}

export function revisionShipped(schema: SchemaName): number {
  return schemaRevision(shippedVersion(schema));
}

export function isUpstream(
  state: SchemaState,
): state is Extract<SchemaState, { kind: 'upstream-extension' | 'upstream-plain' }> {
  return state.kind === 'upstream-extension' || state.kind === 'upstream-plain';
}

function lockTimeout(options: UpgradeOptions): number {
  const seconds = options.lockTimeoutSeconds ?? 5;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new SkytoolsError('BAD_OPTION', `lock timeout must be a positive number of seconds`, {
      lockTimeout: seconds,
    });
  }
  return seconds;
}

/** Everything that would stop the adoption half-way, named all at once before any change. */
async function refuseBlocked(
  client: pg.Client,
  database: string,
  adopting: readonly SchemaState[],
): Promise<void> {
  const blockers: string[] = [];
  for (const state of adopting) {
    if (!isUpstream(state)) continue;
    if (state.version.split('.')[0] !== adoptableMajor) {
      blockers.push(
        `${state.schema} ${state.version} is older than upstream's version 3, which adoption starts from (upgrade it with upstream's tools first)`,
      );
    }
  }
  const extensions = adopting
    .filter((s) => s.kind === 'upstream-extension')
    .map((s) => s.schema as string);
  if (extensions.length > 0) {
    const { rows } = await client.query<{ blocker: string }>(
      `select format('extension %s belongs to role %s; run as that role or a superuser', e.extname, e.extowner::regrole) as blocker
         from pg_catalog.pg_extension e
        where e.extname = any($1)
          and not pg_catalog.pg_has_role(current_user, e.extowner, 'USAGE')
          and not (select r.rolsuper from pg_catalog.pg_roles r where r.rolname = current_user)
       union all
       select format('extension %s requires extension %s', x.extname, e.extname)
         from pg_catalog.pg_depend d
         join pg_catalog.pg_extension e on e.oid = d.refobjid
         join pg_catalog.pg_extension x on x.oid = d.objid
        where d.classid = 'pg_catalog.pg_extension'::regclass
          and d.refclassid = 'pg_catalog.pg_extension'::regclass
          and e.extname = any($1) and not x.extname = any($1)`,
      [extensions],
    );
    blockers.push(...rows.map((r) => r.blocker));
  }
  if (blockers.length === 0) return;
  throw new SkytoolsError('ADOPT_REFUSED', `not adopted, nothing changed: ${blockers.join('; ')}`, {
    database,
    blockers,
  });
}

/**
 * Take every member out of upstream's extensions, then drop the extensions, which are empty
 * by then: the tables, sequences and functions stay as they are, now plain schema objects.
 * Dependents first (londiste needs pgq_node, which needs pgq).
 */
async function dropExtensions(client: pg.Client, adopting: readonly SchemaState[]): Promise<void> {
  const extensions = adopting
    .filter((s) => s.kind === 'upstream-extension')
    .map((s) => s.schema)
    .reverse();
  for (const extension of extensions) {
    await client.query(
      `do $adopt$
       declare
         member record;
       begin
         for member in
           select o.type, o.identity
             from pg_catalog.pg_depend d
             join pg_catalog.pg_extension e on e.oid = d.refobjid
             cross join lateral pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) o
            where d.refclassid = 'pg_catalog.pg_extension'::regclass
              and d.deptype = 'e' and e.extname = ${quoteLiteral(extension)}
         loop
           execute format('alter extension %I drop %s %s', ${quoteLiteral(extension)}, member.type, member.identity);
         end loop;
       end;
       $adopt$`,
    );
    await client.query(`drop extension ${quoteIdent(extension)} restrict`);
  }
}

/**
 * Upstream's seven-argument `pgq.insert_event` stands where our generator writes the fast
 * per-queue one, and the generator keeps a function it did not write: drop upstream's so
 * producers get ours.
 */
async function dropUpstreamInsertEvent(
  client: pg.Client,
  adopting: readonly SchemaState[],
): Promise<void> {
  if (!adopting.some((s) => s.schema === 'pgq')) return;
  await client.query(
    'drop function if exists pgq.insert_event(text, text, text, text, text, text, text)',
  );
}

/** Upstream's C functions that ours did not replace would break once its library goes. */
async function refuseLeftoverC(
  client: pg.Client,
  database: string,
  adopting: readonly SchemaState[],
): Promise<void> {
  const { rows } = await client.query<{ fn: string }>(
    `select p.oid::regprocedure::text as fn
       from pg_catalog.pg_proc p
       join pg_catalog.pg_language l on l.oid = p.prolang
      where l.lanname = 'c' and p.pronamespace::regnamespace::text = any($1)
      order by 1`,
    [adopting.map((s) => s.schema)],
  );
  if (rows.length === 0) return;
  throw new SkytoolsError(
    'ADOPT_REFUSED',
    `not adopted, nothing changed: upstream C functions skytools has no replacement for: ${rows.map((r) => r.fn).join(', ')}`,
    { database, functions: rows.map((r) => r.fn) },
  );
}

/** A lock wait over the timeout becomes one line that says nothing changed and to retry. */
async function withLockNames<T>(database: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const cause = error instanceof SkytoolsError && error.cause ? error.cause : error;
    if (failureOf(cause).kind !== 'lock') throw error;
    throw new SkytoolsError(
      'LOCK_NOT_AVAILABLE',
      `a lock was not granted in time (${(cause as Error).message}); nothing changed, retry when the long transaction holding it has ended`,
      { database },
      { cause: error },
    );
  }
}

async function currentDatabase(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ db: string }>('select current_database() as db');
  return rows[0]?.db ?? '';
}

/**
 * Two databases for copy tests: the source is the test file's own database, the destination
 * another one cloned from the same template (so it has the londiste schema), both on the
 * run's cluster; clients to each, and the checks the tests share: what a table holds, and
 * its indexes and constraints as the catalog prints them.
 */
import type pg from 'pg';
import { beforeAll } from 'vitest';
import {
  type CopyTableOptions,
  type CopyTableResult,
  copyTable,
} from '../../src/londiste/copy/copy-table.js';
import type { TableHandler } from '../../src/londiste/handler.js';
import { quoteFqname } from '../../src/londiste/table-names.js';
import type { Logger } from '../../src/pgq/logger.js';
import type { TestDatabase } from '../harness/database.js';

export interface CopyDatabases {
  source: pg.Client;
  dest: pg.Client;
  /** Another session to the destination, for looking at it while a copy runs. */
  destAdmin: pg.Client;
  destConfig: pg.ClientConfig;
}

export function useCopyDatabases(test: TestDatabase): CopyDatabases {
  const dbs = {} as CopyDatabases;
  beforeAll(async () => {
    const database = await test.createDatabase('dest', { template: test.cluster.templateDatabase });
    dbs.destConfig = test.config({ database });
    dbs.source = await test.connect();
    dbs.dest = await test.connect({ database });
    dbs.destAdmin = await test.connect({ database });
  });
  return dbs;
}

/** A handler that copies the rows `condition` selects by the default COPY stream. */
export function plainHandler(condition: string | null = null): TableHandler {
  return {
    needsTable: () => true,
    processEvent: () => {},
    flush: async () => {},
    copyCondition: () => condition,
  };
}

/** Log lines kept for the tests to look at. */
export function memoryLog(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (_obj: Record<string, unknown>, msg = '') =>
      lines.push({ level, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** copyTable with the defaults of a plain copy of `table` to the same name. */
export function runCopy(
  dbs: CopyDatabases,
  table: string,
  options: Partial<CopyTableOptions> = {},
): Promise<CopyTableResult> {
  return copyTable({
    source: dbs.source,
    dest: dbs.dest,
    table,
    destTable: table,
    handler: plainHandler(),
    skipTruncate: false,
    keepDdl: false,
    log: memoryLog(),
    beforeCommit: async () => {},
    ...options,
  });
}

/** Run `sql` on both sides. */
export async function onBoth(dbs: CopyDatabases, sql: string): Promise<void> {
  await dbs.source.query(sql);
  await dbs.dest.query(sql);
}

/** Row count and a hash of the rows' text (columns `columns`, ordered by them). */
export async function contents(
  client: pg.ClientBase,
  table: string,
  columns = '*',
): Promise<{ count: number; hash: string | null }> {
  const { rows } = await client.query(
    `select count(*)::int as count,
            md5(string_agg(r::text, E'\\n' order by r::text)) as hash
       from (select ${columns} from ${quoteFqname(table)}) r`,
  );
  return rows[0] as { count: number; hash: string | null };
}

/** The table's indexes and constraints as the catalog prints them, sorted. */
export async function definitions(client: pg.ClientBase, table: string): Promise<string[]> {
  const { rows } = await client.query<{ def: string }>(
    `select 'index ' || pg_get_indexdef(i.indexrelid)
              || case when i.indisclustered then ' clustered' else '' end
              || case when i.indisreplident then ' replident' else '' end
              || coalesce(' comment ' || obj_description(i.indexrelid, 'pg_class'), '') as def
       from pg_index i where i.indrelid = to_regclass($1)
     union all
     select 'constraint ' || conname || ' ' || pg_get_constraintdef(c.oid)
              || case when c.convalidated then '' else ' not validated' end
              || coalesce(' comment ' || obj_description(c.oid, 'pg_constraint'), '')
       from pg_constraint c where c.conrelid = to_regclass($1)
     order by 1`,
    [quoteFqname(table)],
  );
  return rows.map((row) => row.def);
}

/** Whether the session has no transaction open (now() moves with each statement then). */
export async function idle(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query('select now() = statement_timestamp() as idle');
  return rows[0].idle as boolean;
}

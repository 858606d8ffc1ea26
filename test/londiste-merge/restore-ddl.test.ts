/**
 * The lead partition's restore of the indexes it dropped for a merged table's copies
 * (src/londiste/worker/merge-copy.ts): all at once with dropped_ddl cleared; when it fails
 * (two partitions sent rows with one key) one error names the table and the clash, and
 * nothing changes: dropped_ddl stays for the next try, which succeeds once the rows are fixed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { restoreDroppedDdl, storeDroppedDdl } from '../../src/londiste/worker/merge-copy.js';
import { loadLocalTables } from '../../src/londiste/worker/tables.js';
import { silentLogger } from '../../src/pgq/logger.js';
import { createRoot, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import type { LNode } from '../londiste-worker/helpers.js';
import { indexDefs } from './helpers.js';

const test = useTestDatabase();
const queue = 'rq';
const table = 'public.merged';
let node: LNode;
let before: string[];

beforeAll(async () => {
  [node] = await sharedNodes(test, 'n');
  await createRoot(node, queue);
  await node.db.query(`create table ${table} (id int primary key, v text unique)`);
  await node.db.query('select * from londiste.local_add_table($1, $2)', [queue, table]);
  before = await indexDefs(node, table);
  await node.db.query(`select * from londiste.local_set_table_state($1, $2, null, 'catching-up')`, [
    queue,
    table,
  ]);
  await node.db.query(
    `alter table ${table} drop constraint merged_pkey, drop constraint merged_v_key`,
  );
  await storeDroppedDdl(node.db, queue, table, [
    `alter table ${table} add constraint merged_pkey primary key (id), add constraint merged_v_key unique (v)`,
  ]);
});

/** Rows written as a copy or replay writes them: the table's pgq trigger stays silent. */
async function asReplica(sql: string) {
  await node.db.query(`begin; set local session_replication_role = replica; ${sql}; commit`);
}

async function info() {
  const found = (await loadLocalTables(node.db, queue)).get(table);
  if (found === undefined) throw new Error(`${table} is not local`);
  return found;
}

describe("restoring a merged table's indexes", () => {
  it('names the table when rows of two partitions clash, keeps dropped_ddl; then restores', async () => {
    await asReplica(`insert into ${table} values (1, 'a'), (1, 'b')`);
    const failed = await restoreDroppedDdl(node.db, queue, await info(), silentLogger).catch(
      (e: Error) => e,
    );
    expect((failed as Error).message).toMatch(
      /^restoring the indexes and constraints of public\.merged after every partition copied \(dropped_ddl kept; fix the rows, the copy tries again\) on queue "rq": could not create unique index "merged_pkey"/,
    );
    expect((await info()).droppedDdl).toMatch(/add constraint merged_pkey primary key/);
    expect(await indexDefs(node, table)).toEqual([]);

    await asReplica(`delete from ${table} where v = 'b'`);
    await restoreDroppedDdl(node.db, queue, await info(), silentLogger);
    expect((await info()).droppedDdl).toBeNull();
    expect(await indexDefs(node, table)).toEqual(before);
  });
});

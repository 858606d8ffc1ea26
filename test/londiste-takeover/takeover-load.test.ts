/**
 * Takeover of a Londiste root under load (issue 17 item 4, docs/londiste.md#takeover): a root
 * (a), a branch (b) and a leaf (c) under it replicate two tables whose ids come from
 * replicated sequences; producers insert, update and delete rows and burn sequence values
 * all along, following whichever node is the root.
 *
 * - Switchover b <- a while they write: every row change is on every node at the end, row
 *   by row, and no id the new root hands out was ever handed out before.
 * - Failover a <- b (b "dies": its connections cut, its database closed, while the
 *   producers write): the new root holds exactly the changes of the transactions visible in
 *   the last tick it copied from b (each producer's journal, replayed, says what that is),
 *   the leaf is moved under it and ends equal to it, and its sequences never hand out an id
 *   b had handed out, even one whose row was lost.
 *
 * Normal suite: one switchover, one failover, a few seconds of writes around each.
 * `npm run test:stress` (SKYTOOLS_STRESS=1): four switchovers back and forth under heavier
 * load, then the failover.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  type LNode,
  type Proc,
  poll,
  startTicker,
  tableRows,
  tickNow,
  useLondiste,
  waitSynced,
  workerTick,
} from '../londiste-worker/helpers.js';
import { handedOut, type Journal, nodeType, startWriters, type Writers } from './writers.js';

const stress = process.env.SKYTOOLS_STRESS === '1';
const switchovers = stress ? 4 : 1;
const loadMs = stress ? 4000 : 500;
const queue = 'tl';
const tables = ['public.orders', 'public.items'];

const test = useTestDatabase();
const londiste = useLondiste();
let a: LNode;
let b: LNode;
let c: LNode;
const ini = new Map<LNode, string>();

function ddl(table: string): string {
  const seq = `${table}_ids`;
  return `create sequence ${seq}; create table ${table} (id bigint primary key default nextval('${seq}'), v text, n int not null default 0)`;
}

beforeAll(async () => {
  [a, b, c] = await sharedNodes(test, 'a', 'b', 'c');
  await createChain(queue, [a, b, c], 'leaf');
  // The same rows everywhere before replication starts: the replicas need no copy.
  for (const table of tables) {
    for (const node of [a, b, c]) {
      await node.db.query(ddl(table));
      await node.db.query(
        `insert into ${table} (v) select md5(i::text) from generate_series(1, 300) i`,
      );
    }
    const { rows: added } = await a.db.query('select * from londiste.local_add_table($1, $2)', [
      queue,
      table,
    ]);
    expect(added[0].ret_code, added[0].ret_note).toBe(200);
    await a.db.query('select * from londiste.local_add_seq($1, $2)', [queue, `${table}_ids`]);
    for (const node of [b, c]) {
      await node.db.query('select * from londiste.global_add_table($1, $2)', [queue, table]);
      const { rows } = await node.db.query('select * from londiste.local_add_table($1, $2, $3)', [
        queue,
        table,
        ['expect_sync'],
      ]);
      expect(rows[0].ret_code, rows[0].ret_note).toBe(200);
    }
  }
  await a.db.query('select * from londiste.root_check_seqs($1)', [queue]);
  for (const node of [a, b, c]) ini.set(node, londiste.writeIni(node, queue));
});

/** Each replica registers the sequences once it has heard of them (add-seq there). */
async function addSeqs(nodes: LNode[]) {
  for (const node of nodes) {
    for (const table of tables) {
      const { rows } = await node.db.query('select * from londiste.local_add_seq($1, $2)', [
        queue,
        `${table}_ids`,
      ]);
      expect(rows[0].ret_code, rows[0].ret_note).toBeLessThan(300);
    }
  }
}

/** Every table equal, row by row, on all the nodes. */
async function expectEqual(root: LNode, others: LNode[], why: () => string) {
  for (const node of others) {
    const top = await tickNow(root.db, queue);
    await poll(
      () => workerTick(node.db, queue),
      (t) => t >= top,
      120_000,
      (t) => `${node.name} at ${t}, root at ${top}\n${why()}`,
    );
  }
  for (const table of tables) {
    const want = await tableRows(root.db, table);
    for (const node of others) {
      expect(await tableRows(node.db, table), `${table} on ${node.name}`).toEqual(want);
    }
  }
}

describe('takeover of a Londiste root under load', () => {
  it('switchover, then failover: no change lost, ids never handed out twice', async () => {
    const tickers = new Map<LNode, { stop(): Promise<void> }>();
    for (const node of [a, b, c]) {
      tickers.set(
        node,
        startTicker(await test.connect({ database: node.config.database as string })),
      );
    }
    const workers = new Map<LNode, Proc>();
    for (const node of [a, b, c]) workers.set(node, londiste.startWorker(ini.get(node) as string));
    const why = () =>
      [...workers.entries()]
        .map(([n, w]) => `--- ${n.name}\n${londiste.log(n)}\n${w.output.join('')}`)
        .join('\n');
    let writers: Writers | null = null;
    const journal: Journal = [];
    try {
      for (const node of [b, c]) await waitSynced(a, node, queue, tables, 120_000, why);
      await addSeqs([b, c]);
      writers = startWriters([a, b], queue, tables, journal, stress ? 4 : 2);
      await new Promise((r) => setTimeout(r, loadMs));

      // Switchovers back and forth while the writers follow the root.
      let [root, branch] = [a, b];
      for (let i = 0; i < switchovers; i++) {
        const mark = journal.length;
        const run = await londiste.run([ini.get(branch) as string, 'takeover', root.name]);
        expect(run.code, `${run.stdout}\n${why()}`).toBe(0);
        expect(await nodeType(branch, queue)).toBe('root');
        expect(await nodeType(root, queue)).toBe('branch');
        await newIds(journal, branch, mark);
        // Ids only go forward: the new root's ids are past everything the old one handed out.
        const before = handedOut(journal, root.name).max;
        const after = handedOut(journal, branch.name, mark).min;
        for (const table of tables) {
          expect(after.get(table), table).toBeGreaterThan(before.get(table) ?? 0n);
        }
        [root, branch] = [branch, root];
        await new Promise((r) => setTimeout(r, loadMs));
      }
      // Writes paused: every node holds every change.
      await writers.pause();
      await expectEqual(root, [branch, c], why);
      expect(writers.errors).toEqual([]);
      await writers.resume();
      await new Promise((r) => setTimeout(r, loadMs));

      // The root dies under load: its ticker and worker stop, connections are cut.
      const dead = root;
      const heir = branch;
      await writers.pause();
      await tickers.get(dead)?.stop();
      const lastTick = await tickNow(dead.db, queue);
      await writers.resume();
      await writers.waitWrites(dead, 20); // committed on the dead root, in no batch: lost
      await writers.pause();
      for (const node of [heir, c]) {
        await poll(
          () => workerTick(node.db, queue),
          (t) => t >= lastTick,
          120_000,
          () => why(),
        );
      }
      const deadWorker = workers.get(dead) as Proc;
      deadWorker.child.kill('SIGKILL');
      await deadWorker.exited;
      await cutOff(dead);

      writers.follow(heir);
      const mark = journal.length;
      const run = await londiste.run([
        ini.get(heir) as string,
        'takeover',
        dead.name,
        '--dead-root',
      ]);
      expect(run.code, `${run.stdout}\n${why()}`).toBe(0);
      expect(await nodeType(heir, queue)).toBe('root');
      // Exactly the changes of the transactions the last copied tick saw; the rest is lost.
      const expected = await expectedAt(dead, lastTick, journal);
      expect(expected.lost).toBeGreaterThan(0);
      for (const table of tables) {
        expect(await tableRows(heir.db, table), table).toEqual(expected.tables.get(table));
      }
      await writers.resume();
      await newIds(journal, heir, mark);
      await writers.stop();
      expect(writers.errors).toEqual([]);
      // Ids on the new root are past every one the dead root handed out, lost rows' too.
      const before = handedOut(journal, dead.name).max;
      const after = handedOut(journal, heir.name, mark).min;
      for (const table of tables) {
        expect(after.get(table), table).toBeGreaterThan(before.get(table) ?? 0n);
      }
      const { rows: provider } = await c.db.query(
        'select provider_node from pgq_node.get_node_info($1)',
        [queue],
      );
      expect(provider[0].provider_node).toBe(heir.name);
      await expectEqual(heir, [c], why);
    } finally {
      await writers?.stop();
      for (const t of tickers.values()) await t.stop();
      for (const w of workers.values()) w.child.kill('SIGINT');
      for (const w of workers.values()) await w.exited;
    }
  }, 600_000);
});

/**
 * A dead root: no new connections to its database, every session on it ended but the test's
 * own (which reads its ticks and journal afterwards).
 */
async function cutOff(node: LNode) {
  const database = node.config.database as string;
  const admin = await test.connect({ database: 'postgres' });
  await admin.query(`alter database ${database} allow_connections false`);
  const { rows } = await node.db.query('select pg_backend_pid() as pid');
  await admin.query(
    'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> $2',
    [database, rows[0].pid],
  );
}

/**
 * The tables as the transactions visible in `tick`'s snapshot on `dead` left them: the
 * rows before the writers started (the same on every node), then each journal entry made on
 * another node or visible there, in the order written.
 */
async function expectedAt(dead: LNode, tick: bigint, journal: Journal) {
  const txids = journal.filter((e) => e.node === dead.name).map((e) => e.txid);
  const { rows } = await dead.db.query(
    `select x::text as txid, txid_visible_in_snapshot(x, t.tick_snapshot) as seen
       from unnest($3::int8[]) x,
            pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
      where q.queue_name = $1 and t.tick_id = $2`,
    [queue, tick.toString(), txids],
  );
  const seen = new Set(rows.filter((r) => r.seen).map((r) => r.txid as string));
  const lost = txids.length - seen.size;
  const out = new Map<string, Record<string, unknown>[]>();
  for (const table of tables) {
    const rowsById = new Map<string, Record<string, unknown>>();
    for (const row of await tableRows(dead.db, table)) {
      if (Number(row.id) <= 300) rowsById.set(String(row.id), row);
    }
    for (const e of journal) {
      if (e.table !== table || (e.node === dead.name && !seen.has(e.txid))) continue;
      if (e.row === null) rowsById.delete(e.id);
      else rowsById.set(e.id, e.row);
    }
    out.set(
      table,
      [...rowsById.values()].sort((x, y) =>
        BigInt(x.id as string) < BigInt(y.id as string) ? -1 : 1,
      ),
    );
  }
  return { tables: out, lost };
}

/** Until `node` has handed out ids of every table (inserts or burns) since entry `from`. */
async function newIds(journal: Journal, node: LNode, from: number) {
  await poll(
    async () => handedOut(journal, node.name, from).min,
    (min) => tables.every((t) => min.has(t)),
    120_000,
    (min) => `ids handed out on ${node.name}: ${JSON.stringify([...(min?.keys() ?? [])])}`,
  );
}

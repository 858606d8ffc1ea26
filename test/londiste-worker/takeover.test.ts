/**
 * Takeover of a Londiste root (docs/londiste.md#takeover): refused while a table on the new
 * root is not ok, naming it; a switchover while rows are written goes through with no row
 * lost, and the new root's sequence never hands out an id the old root had handed out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  addReplicaTable,
  addRootTable,
  type LNode,
  type Proc,
  poll,
  startTicker,
  tableRows,
  useLondiste,
  waitSynced,
} from './helpers.js';

const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'tk';
const table = 'public.orders';
const ddl = `create table public.orders (id bigint primary key default nextval('public.order_ids'), v text)`;
let root: LNode;
let branch: LNode;
let rootIni: string;
let branchIni: string;

async function nodeType(node: LNode): Promise<string> {
  const { rows } = await node.db.query('select node_type from pgq_node.get_node_info($1)', [queue]);
  return rows[0].node_type;
}

/**
 * One row with an id from the node's own sequence, only while the node is the root: the row
 * lock on its node_info makes a switchover's demotion wait for the insert, so no row commits
 * on a node that is no longer the root (an application moves its writes the same way).
 */
async function writeWhileRoot(node: LNode): Promise<number | null> {
  const { rows } = await node.db.query(
    `with r as (select 1 from pgq_node.node_info where queue_name = $1 and node_type = 'root' for share)
     insert into public.orders (v) select md5(random()::text) from r returning id`,
    [queue],
  );
  return rows.length === 0 ? null : Number(rows[0].id);
}

/** Rows with ids from the node's own sequence, one per transaction. */
async function write(node: LNode, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const { rows } = await node.db.query(
      'insert into public.orders (v) values (md5(random()::text)) returning id',
    );
    ids.push(Number(rows[0].id));
  }
  return ids;
}

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
  await createChain(queue, [root, branch], 'branch');
  for (const node of [root, branch]) await node.db.query('create sequence public.order_ids');
  await addRootTable(root, queue, table, ddl);
  await root.db.query("select * from londiste.local_add_seq($1, 'public.order_ids')", [queue]);
  await root.db.query('select * from londiste.root_check_seqs($1)', [queue]);
  await addReplicaTable(branch, queue, table, { ddl });
  rootIni = londiste.writeIni(root, queue);
  branchIni = londiste.writeIni(branch, queue);
});

describe('takeover of a Londiste root', () => {
  it('is refused while a table on the new root is not ok, naming it', async () => {
    const run = await londiste.run([branchIni, 'takeover', 'root']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /node branch cannot become the root of queue tk: tables not ok there: public\.orders \(not copied yet\); wait until they are \(londiste CONFIG wait-sync\), or --force/,
    );
    expect(await nodeType(branch)).toBe('branch');
    expect(await nodeType(root)).toBe('root');
  });

  it('switches over while rows are written: none lost, ids never go back', {
    timeout: 300_000,
  }, async () => {
    const tickers = [root, branch].map(async (n) =>
      startTicker(await test.connect({ database: n.config.database as string })),
    );
    const workers: Proc[] = [londiste.startWorker(rootIni), londiste.startWorker(branchIni)];
    const why = () =>
      `${londiste.log(branch)}\n${workers.map((w) => w.output.join('')).join('\n')}`;
    try {
      const before = await write(root, 300);
      await waitSynced(root, branch, queue, [table], 120_000, why);
      // Known on the branch once its worker replayed the root's values: add-seq there now.
      const added = await branch.db.query(
        "select * from londiste.local_add_seq($1, 'public.order_ids')",
        [queue],
      );
      expect(added.rows[0].ret_code).toBe(200);
      let writing = true;
      const during: number[] = [];
      const writer = (async () => {
        let target = root;
        while (writing) {
          // A demoted root refuses inserts first (queue_disable_insert), then stops being root.
          const id = await writeWhileRoot(target).catch((error: { hint?: string }) => {
            if (!/queue_disable_insert/.test(error.hint ?? '')) throw error;
            return null;
          });
          if (id !== null) during.push(id);
          else target = target === root ? branch : root;
        }
      })();
      const run = await londiste.run([branchIni, 'takeover', 'root']);
      writing = false;
      await writer;
      expect(run.code, `${run.stdout}\n${why()}`).toBe(0);
      expect(await nodeType(branch)).toBe('root');
      expect(await nodeType(root)).toBe('branch');
      expect(during.length).toBeGreaterThan(0);
      const written = [...before, ...during];
      const after = await write(branch, 100);
      // The new root's ids: never one the old root handed out.
      const old = new Set(written);
      expect(after.filter((id) => old.has(id))).toEqual([]);
      await poll(
        async () => (await tableRows(root.db, table)).length,
        (n) => n === written.length + after.length,
        120_000,
        () => why(),
      );
      expect(await tableRows(root.db, table)).toEqual(await tableRows(branch.db, table));
    } finally {
      for (const t of tickers) await (await t).stop();
      for (const w of workers) w.child.kill('SIGINT');
      for (const w of workers) await w.exited;
    }
  });
});

/**
 * root -> leaf with the real worker process: tables added one by one while a producer
 * writes to all of them; each is copied by its own copy process while replay of the others
 * goes on, handed over to the worker, and at the end holds the root's rows exactly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  addReplicaTable,
  addRootTable,
  type LNode,
  poll,
  seedRows,
  startProducer,
  startTicker,
  tableRows,
  tableStates,
  useLondiste,
  waitSynced,
} from './helpers.js';

const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'rl';
let root: LNode;
let leaf: LNode;

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
});

describe('root -> leaf', () => {
  it('replicates tables added one by one while the producer writes', {
    timeout: 400_000,
  }, async () => {
    const tables = ['public.t1', 'public.t2', 'public.T3 ü'];
    const added: string[] = [];
    for (const t of tables) {
      await addRootTable(root, queue, t);
      await seedRows(root.db, t, 500);
    }
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const producer = startProducer(root.db, () => tables);
    const ini = londiste.writeIni(leaf, queue, { parallel_copies: '2' });
    const worker = londiste.startWorker(ini);
    const why = () => `${londiste.log(leaf)}\n${worker.output.join('')}`;
    try {
      for (const t of tables) {
        await addReplicaTable(leaf, queue, t);
        added.push(t);
        await poll(
          () => tableStates(leaf, queue),
          (s) => s[t] !== null && s[t] !== undefined,
          90_000,
          (s) => `${t} never left NULL: ${JSON.stringify(s)}\n${why()}`,
        );
      }
      await waitSynced(root, leaf, queue, tables, 90_000, why);
      await producer.stop();
      await waitSynced(root, leaf, queue, tables, 90_000, why);
      for (const t of tables) {
        expect(await tableRows(leaf.db, t), t).toEqual(await tableRows(root.db, t));
      }
      expect(producer.ops).toBeGreaterThan(0);
      // The copies handed their tables over and ended; their consumers go right after the
      // handover, which commits first.
      await poll(
        async () =>
          (
            await leaf.db.query(
              "select consumer_name from pgq_node.local_state where queue_name = $1 and consumer_name like '%.copy.%'",
              [queue],
            )
          ).rows,
        (rows) => rows.length === 0,
        30_000,
        (rows) => `copy consumers left: ${JSON.stringify(rows)}\n${why()}`,
      );
      expect(londiste.log(leaf)).toMatch(/applied: \d+/);
      if (process.env.SHOW_LOG) console.log(londiste.log(leaf));
    } finally {
      await producer.stop();
      await ticker.stop();
      worker.child.kill('SIGINT');
      await worker.exited;
    }
  });
});

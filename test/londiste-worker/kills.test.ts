/**
 * kill -9 of the worker and of copy processes at random points while tables are copied and
 * a producer writes: the worker restarts (by hand, as an init system would) and relaunches
 * dead copies; at the end every table is ok and holds the root's rows exactly: no table
 * handed over with missing or extra rows, no event applied twice (a second insert of a key
 * would stop replay with a unique violation, a lost one leaves a row out).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  addReplicaTable,
  addRootTable,
  alive,
  type LNode,
  type Proc,
  seedRows,
  startProducer,
  startTicker,
  tableRows,
  tableStates,
  useLondiste,
  waitSynced,
} from './helpers.js';

// `npm run test:stress` (SKYTOOLS_STRESS=1): 24 kills over 6 tables of more rows.
const stress = process.env.SKYTOOLS_STRESS === '1';
const kills = stress ? 24 : 4;
const tableCount = stress ? 6 : 3;
const seed = stress ? 20_000 : 3_000;

const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'kq';
let root: LNode;
let leaf: LNode;

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 during copy and replay', () => {
  it(`survives ${kills} kills of the worker and of copy processes`, {
    timeout: 600_000,
  }, async () => {
    const tables = Array.from({ length: tableCount }, (_, i) => `public.k${i + 1}`);
    for (const t of tables) {
      await addRootTable(root, queue, t);
      await seedRows(root.db, t, seed);
    }
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const producer = startProducer(root.db, () => tables, 2);
    // Copies as processes of their own (copy_mode = process, the default): killed alone.
    const ini = londiste.writeIni(leaf, queue, { parallel_copies: '2' });
    let worker: Proc = londiste.startWorker(ini);
    const why = () => `${londiste.log(leaf)}\n${worker.output.join('')}`;
    const done: string[] = [];
    try {
      for (const t of tables) await addReplicaTable(leaf, queue, t);
      for (let k = 0; k < kills; k++) {
        await pause(300 + Math.random() * 2000);
        const copies = tables
          .map((t) => ({ t, pid: londiste.copyPid(leaf, t) }))
          .filter((c): c is { t: string; pid: number } => c.pid !== null && alive(c.pid));
        if (copies.length > 0 && Math.random() < 0.6) {
          const victim = copies[Math.floor(Math.random() * copies.length)] as (typeof copies)[0];
          process.kill(victim.pid, 'SIGKILL');
          done.push(`copy ${victim.t}`);
        } else {
          worker.child.kill('SIGKILL');
          await worker.exited;
          done.push('worker');
          worker = londiste.startWorker(ini);
        }
      }
      await producer.stop();
      await waitSynced(root, leaf, queue, tables, 240_000, why);
      for (const t of tables) {
        expect(await tableRows(leaf.db, t), `${t} after kills: ${done.join(', ')}`).toEqual(
          await tableRows(root.db, t),
        );
      }
      expect(Object.values(await tableStates(leaf, queue))).toEqual(tables.map(() => 'ok'));
      expect(done).toHaveLength(kills);
    } finally {
      await producer.stop();
      await ticker.stop();
      worker.child.kill('SIGINT');
      await worker.exited;
    }
  });
});

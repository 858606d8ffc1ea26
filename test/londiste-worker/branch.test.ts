/**
 * root -> branch -> leaf: the branch copies its tables from the root and forwards every
 * event; the leaf copies from the branch once the branch has the table ok, and replays what
 * the branch forwards. A kill -9 of the branch's worker and of a leaf copy on the way.
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
const queue = 'rbl';
let root: LNode;
let branch: LNode;
let leaf: LNode;

beforeAll(async () => {
  [root, branch, leaf] = await sharedNodes(test, 'root', 'branch', 'leaf');
  await createChain(queue, [root, branch, leaf], 'leaf');
});

describe('root -> branch -> leaf', () => {
  it('replicates through the branch, with a kill of the branch worker and of a leaf copy', {
    timeout: 400_000,
  }, async () => {
    const tables = ['public.b1', 'public.b2', 'sch.B3'];
    await root.db.query('create schema sch');
    await branch.db.query('create schema sch');
    await leaf.db.query('create schema sch');
    for (const t of tables) {
      await addRootTable(root, queue, t);
      await seedRows(root.db, t, 2000);
    }
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const producer = startProducer(root.db, () => tables);
    // The branch copies as tasks of its worker (copy_mode = worker) through a worker kill; the
    // leaf's copies are processes of their own (the default): one is killed alone.
    const branchIni = londiste.writeIni(branch, queue, {
      parallel_copies: '3',
      copy_mode: 'worker',
    });
    const leafIni = londiste.writeIni(leaf, queue);
    let branchWorker: Proc = londiste.startWorker(branchIni);
    const leafWorker = londiste.startWorker(leafIni);
    const why = () =>
      `--- branch\n${londiste.log(branch)}\n--- leaf\n${londiste.log(leaf)}\n${leafWorker.output.join('')}`;
    try {
      for (const t of tables) {
        await addReplicaTable(branch, queue, t);
        await addReplicaTable(leaf, queue, t);
      }
      // The leaf waits for the branch: it copies from its provider only tables ok there.
      await poll(
        () => tableStates(branch, queue),
        (s) => Object.values(s).some((v) => v !== null),
        60_000,
        (s) => `branch copies never started: ${JSON.stringify(s)}\n${why()}`,
      );
      branchWorker.child.kill('SIGKILL');
      await branchWorker.exited;
      branchWorker = londiste.startWorker(branchIni);
      const leafCopy = await poll(
        async () =>
          tables.map((t) => londiste.copyPid(leaf, t)).find((p) => p !== null && alive(p)),
        (pid) => pid !== undefined,
        90_000,
        () => `no leaf copy ran\n${why()}`,
      );
      process.kill(leafCopy as number, 'SIGKILL');
      await waitSynced(root, branch, queue, tables, 120_000, why);
      await producer.stop();
      await waitSynced(root, branch, queue, tables, 120_000, why);
      await waitSynced(root, leaf, queue, tables, 120_000, why);
      for (const t of tables) {
        const expected = await tableRows(root.db, t);
        expect(await tableRows(branch.db, t), `${t} on the branch`).toEqual(expected);
        expect(await tableRows(leaf.db, t), `${t} on the leaf`).toEqual(expected);
      }
    } finally {
      await producer.stop();
      await ticker.stop();
      for (const w of [branchWorker, leafWorker]) w.child.kill('SIGINT');
      await Promise.all([branchWorker.exited, leafWorker.exited]);
    }
  });
});

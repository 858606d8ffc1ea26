/**
 * The spare copy process (`copy_prestart`): the worker keeps one copy process loaded and
 * waiting while no copy runs; the next table's copy is that process; a spare that dies is
 * replaced; and no spare outlives its worker, whether the worker stops or is killed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  addReplicaTable,
  addRootTable,
  alive,
  type LNode,
  poll,
  seedRows,
  startTicker,
  tableRows,
  tableStates,
  useLondiste,
} from './helpers.js';

const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'sp';
let root: LNode;
let leaf: LNode;

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
});

/** The pids of the spares that said they wait, in the order they said it. */
function waitingSpares(): number[] {
  return [...londiste.log(leaf).matchAll(/spare copy process (\d+) waits for a table/g)].map((m) =>
    Number(m[1]),
  );
}

async function nextSpare(after: number[], why: () => string): Promise<number> {
  const spares = await poll(
    async () => waitingSpares(),
    (s) => s.length > after.length,
    60_000,
    () => `no new spare copy process after ${JSON.stringify(after)}\n${why()}`,
  );
  return spares.at(-1) as number;
}

describe('the spare copy process', () => {
  it('takes the next table, is replaced when it dies, and ends with its worker', {
    timeout: 240_000,
  }, async () => {
    const table = 'public.spare_t';
    await addRootTable(root, queue, table);
    await seedRows(root.db, table, 300);
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const ini = londiste.writeIni(leaf, queue);
    let worker = londiste.startWorker(ini, ['-v']);
    const why = () => `${londiste.log(leaf)}\n${worker.output.join('')}`;
    try {
      const first = await nextSpare([], why);
      process.kill(first, 'SIGKILL');
      const second = await nextSpare([first], why);
      expect(second).not.toBe(first);

      await addReplicaTable(leaf, queue, table);
      await poll(
        () => tableStates(leaf, queue),
        (s) => s[table] === 'ok',
        90_000,
        (s) => `${table} not ok: ${JSON.stringify(s)}\n${why()}`,
      );
      expect(londiste.log(leaf)).toContain(
        `launching copy process for ${table} (the spare, pid ${second})`,
      );
      expect(await tableRows(leaf.db, table)).toEqual(await tableRows(root.db, table));

      // Killed with its worker: the spare sees its parent gone and exits.
      const third = await nextSpare([first, second], why);
      worker.child.kill('SIGKILL');
      await worker.exited;
      await poll(
        async () => alive(third),
        (living) => !living,
        30_000,
        () => `spare ${third} outlived its killed worker`,
      );

      // Stopped with its worker.
      worker = londiste.startWorker(ini, ['-v']);
      const fourth = await nextSpare([first, second, third], why);
      worker.child.kill('SIGINT');
      expect(await worker.exited).toBe(0);
      await poll(
        async () => alive(fourth),
        (living) => !living,
        30_000,
        () => `spare ${fourth} outlived its stopped worker`,
      );
    } finally {
      await ticker.stop();
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });
});

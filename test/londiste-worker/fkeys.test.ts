/**
 * Foreign keys around a copy (spec §6.8): the worker drops every fkey to or from a table
 * before its copy (kept in londiste.pending_fkeys) and restores each once both its tables
 * are ok with no copy snapshot left; the restored constraint is valid.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  addReplicaTable,
  addRootTable,
  type LNode,
  poll,
  startTicker,
  tableRows,
  useLondiste,
  waitSynced,
} from './helpers.js';

const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'fk';
let root: LNode;
let leaf: LNode;

const parent = 'create table public.parent (id int primary key, v text)';
const child =
  'create table public.child (id int primary key, pid int not null constraint child_pid_fkey references public.parent (id), v text)';

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
});

describe('foreign keys and the copy', () => {
  it('drops the fkeys of a table in copy and restores them when both tables are ok', {
    timeout: 300_000,
  }, async () => {
    await addRootTable(root, queue, 'public.parent', parent);
    await addRootTable(root, queue, 'public.child', child);
    await root.db.query(
      "insert into public.parent select i, 'p' || i from generate_series(1, 300) i",
    );
    await root.db.query(
      "insert into public.child select i, 1 + i % 300, 'c' || i from generate_series(1, 900) i",
    );
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const worker = londiste.startWorker(londiste.writeIni(leaf, queue));
    const why = () => londiste.log(leaf);
    try {
      await addReplicaTable(leaf, queue, 'public.child', { ddl: `${parent}; ${child}` });
      await addReplicaTable(leaf, queue, 'public.parent', { ddl: 'select 1' });
      await waitSynced(root, leaf, queue, ['public.parent', 'public.child'], 90_000, why);
      await poll(
        async () =>
          (await leaf.db.query('select count(*)::int as n from londiste.pending_fkeys')).rows[0]?.n,
        (n) => n === 0,
        60_000,
        (n) => `${n} fkeys still pending\n${why()}`,
      );
      const { rows } = await leaf.db.query(
        "select conname, convalidated from pg_constraint where contype = 'f' and conrelid = 'public.child'::regclass",
      );
      expect(rows).toEqual([{ conname: 'child_pid_fkey', convalidated: true }]);
      expect(londiste.log(leaf)).toMatch(/dropping fkey child_pid_fkey/);
      expect(londiste.log(leaf)).toMatch(/restoring fkey child_pid_fkey/);
      for (const t of ['public.parent', 'public.child']) {
        expect(await tableRows(leaf.db, t)).toEqual(await tableRows(root.db, t));
      }
    } finally {
      await ticker.stop();
      worker.child.kill('SIGINT');
      await worker.exited;
    }
  });
});

/**
 * The `bulk` handler through the real leaf worker while a producer writes on the root: one
 * table per load method (0, 1, 2), each copied and then replayed into the same rows as the
 * root's; a batch's changes of one key are collapsed to its last state (a key inserted and
 * deleted in one batch is never touched on the leaf, one inserted and updated is inserted
 * once with its last values), through the temp table `<schema>_<table>_loadertmp`. Bad
 * arguments are refused at add-table with upstream's text.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { snapshot } from '../londiste-admin/helpers.js';
import { seedRows, startProducer, tableDdl, tableRows } from '../londiste-worker/helpers.js';
import { londiste, ok, poll, synced, useChain } from './helpers.js';

const test = useTestDatabase();
const { chain, startWorker } = useChain(test, 'bq');
const tables = ['public.b0', 'public.b1', 'public.b2'];

beforeAll(async () => {
  const { root, leaf } = chain;
  for (const t of tables) {
    await root.db.query(tableDdl(t));
    await seedRows(root.db, t, 300);
    await leaf.db.query(tableDdl(t));
  }
  // What reaches each leaf table, row by row: an ALWAYS trigger fires under replay's
  // session_replication_role = replica too.
  await leaf.db.query(`
    create table public.touched (tbl text, op text, id int, v text);
    create function public.touch() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        insert into public.touched values (tg_table_name, tg_op, old.id, old.v);
      else
        insert into public.touched values (tg_table_name, tg_op, new.id, new.v);
      end if;
      return null;
    end $$;`);
  for (const t of tables) {
    await leaf.db.query(`create trigger touch after insert or update or delete on ${t}
      for each row execute function public.touch();
      alter table ${t} enable always trigger touch`);
  }
});

describe('bulk', () => {
  it('refuses bad arguments at add-table with upstream text', async () => {
    const { root } = chain;
    const before = await snapshot(root.db);
    for (const [args, text] of [
      [['--handler-arg=method=3'], "Invalid handler argument: ['method=3']"],
      [['--handler-arg=method=x'], "Invalid handler argument: ['method=x']"],
      [['--handler-arg=mode=1'], "Invalid handler argument: ['mode']"],
    ] as [string[], string][]) {
      const result = await londiste([
        root.ini,
        'add-table',
        'public.b0',
        '--handler=bulk',
        ...args,
      ]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(text);
    }
    expect(await snapshot(root.db)).toEqual(before);
  });

  it('copies and replays with methods 0, 1 and 2 while the producer writes', {
    timeout: 240_000,
  }, async () => {
    const { root, leaf } = chain;
    await ok([root.ini, 'add-table', ...tables]);
    for (const [i, t] of tables.entries()) {
      await ok([leaf.ini, 'add-table', t, '--handler=bulk', `--handler-arg=method=${i}`]);
    }
    const producer = startProducer(root.db, () => tables, 1);
    startWorker();
    try {
      await poll(
        async () => producer.ops,
        (n) => n >= 300,
        90_000,
      );
      await synced(chain, tables);
      await producer.stop();
      await synced(chain, tables);
      for (const t of tables) {
        expect(await tableRows(leaf.db, t), t).toEqual(await tableRows(root.db, t));
      }

      // One root transaction per table: key 9001 inserted, updated and deleted; 9002
      // inserted and updated; seeded key 1 updated twice; seeded key 2 deleted and
      // inserted again. Then the leaf sees one change per key at most.
      await leaf.db.query('truncate public.touched');
      for (const t of tables) {
        await root.db.query(`begin;
          insert into ${t} (id, v) values (9001, 'gone'), (9002, 'first');
          update ${t} set v = 'second' where id in (9001, 9002);
          update ${t} set v = 'last', n = 7 where id = 9002;
          delete from ${t} where id = 9001;
          update ${t} set v = 'one' where id = 1;
          update ${t} set v = 'two' where id = 1;
          delete from ${t} where id = 2;
          insert into ${t} (id, v) values (2, 'again');
          commit`);
      }
      await synced(chain, tables);
      for (const t of tables) {
        expect(await tableRows(leaf.db, t), t).toEqual(await tableRows(root.db, t));
      }
      const { rows: touched } = await leaf.db.query(
        'select tbl, op, id, v from public.touched order by tbl, id, op',
      );
      expect(touched).toEqual([
        // method 0: inserts by COPY, updates by one UPDATE.
        { tbl: 'b0', op: 'UPDATE', id: 1, v: 'two' },
        { tbl: 'b0', op: 'UPDATE', id: 2, v: 'again' },
        { tbl: 'b0', op: 'INSERT', id: 9002, v: 'last' },
        // method 1: an update is a delete and an insert.
        { tbl: 'b1', op: 'DELETE', id: 1, v: expect.any(String) },
        { tbl: 'b1', op: 'INSERT', id: 1, v: 'two' },
        { tbl: 'b1', op: 'DELETE', id: 2, v: expect.any(String) },
        { tbl: 'b1', op: 'INSERT', id: 2, v: 'again' },
        { tbl: 'b1', op: 'INSERT', id: 9002, v: 'last' },
        // method 2: updates of rows that exist, inserts of the others.
        { tbl: 'b2', op: 'UPDATE', id: 1, v: 'two' },
        { tbl: 'b2', op: 'UPDATE', id: 2, v: 'again' },
        { tbl: 'b2', op: 'INSERT', id: 9002, v: 'last' },
      ]);
      const { rows: temps } = await leaf.db.query(
        `select relname from pg_class where relpersistence = 't' and relname like 'public_b%_loadertmp'
          order by 1`,
      );
      expect(temps.map((r) => r.relname)).toEqual([
        'public_b0_loadertmp',
        'public_b1_loadertmp',
        'public_b2_loadertmp',
      ]);
    } finally {
      await producer.stop();
    }
  });
});

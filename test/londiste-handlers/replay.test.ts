/**
 * Upstream's handlers through the real leaf worker while a producer writes on the root, on
 * one root -> leaf chain (the tests build on each other, in order): every table is added,
 * copied and replayed at once, then each handler's promise is checked row by row:
 * - `qtable` on the root: inserts become events, the table stays empty; `qsplitter` on the
 *   leaf: those events land in a local queue as they came;
 * - `vtable`: marked local without a table, its events ignored;
 * - `applyfn`: the table copied, then a function called once per later event with
 *   upstream's arguments;
 * - `bulk` methods 0, 1, 2: copied and replayed into the root's rows; one key's changes
 *   within a batch collapsed to its last state (an ALWAYS trigger sees what reaches the leaf);
 * - `shard`: the root's events carry the key's hash, the leaf (shard 1 of 4) copies and
 *   applies its rows only, `disable_replay=1` keeps a table empty; the shard info is checked.
 * Bad arguments are refused at add-table with upstream's text, nothing changed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createTableHandler } from '../../src/londiste/handlers/registry.js';
import { BatchRetries } from '../../src/pgq/batch-retries.js';
import { Event } from '../../src/pgq/event.js';
import { silentLogger } from '../../src/pgq/logger.js';
import { useTestDatabase } from '../harness/database.js';
import { snapshot } from '../londiste-admin/helpers.js';
import { seedRows, startProducer, tableDdl, tableRows } from '../londiste-worker/helpers.js';
import { londiste, ok, poll, rootEvents, states, synced, useChain } from './helpers.js';

const test = useTestDatabase();
const config = {
  shard_hash_func: 'pg_catalog.hashint4',
  shard_info_sql: 'select shard_nr, shard_mask, shard_count from public.shard_conf',
};
const { chain, startWorker } = useChain(test, 'hq', { ...config, parallel_copies: '6' });
const bulkTables = ['public.b0', 'public.b1', 'public.b2'];
const shardTables = ['public.s1', 'public.s2'];
// qt2 and s3 are kept by no table on the leaf: qtable and shard with disable_replay there.
const written = [
  'public.qt',
  'public.qt2',
  'public.vt',
  'public.fn_t',
  ...bulkTables,
  ...shardTables,
  'public.s3',
];
/** The last event of fn_t when its copy was over: every later one must reach the function. */
let afterCopy = 0n;

beforeAll(async () => {
  const { root, leaf } = chain;
  for (const t of written) await root.db.query(tableDdl(t));
  for (const t of ['public.vt', 'public.fn_t', ...bulkTables, ...shardTables]) {
    await seedRows(root.db, t, 300);
  }
  for (const t of ['public.fn_t', ...bulkTables, ...shardTables]) {
    await leaf.db.query(tableDdl(t));
  }
  await leaf.db.query(`
    create table public.fn_log (conf text, tick_id bigint, ev_id bigint, ev_time timestamptz,
      ev_txid bigint, ev_retry int, ev_type text, ev_data text, ev_extra1 text, ev_extra2 text,
      ev_extra3 text, ev_extra4 text);
    create function public.record_event(conf text, tick_id bigint, ev_id bigint,
        ev_time timestamptz, ev_txid bigint, ev_retry int, ev_type text, ev_data text,
        e1 text, e2 text, e3 text, e4 text) returns void language sql as
      $$ insert into public.fn_log values (conf, tick_id, ev_id, ev_time, ev_txid, ev_retry,
           ev_type, ev_data, e1, e2, e3, e4) $$;
    select pgq.create_queue('split_q');
    create table public.shard_conf (shard_nr int, shard_mask int, shard_count int);
    insert into public.shard_conf values (1, 3, 4);
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
  // What reaches each bulk table, row by row: an ALWAYS trigger fires under replay's
  // session_replication_role = replica too.
  for (const t of bulkTables) {
    await leaf.db.query(`create trigger touch after insert or update or delete on ${t}
      for each row execute function public.touch();
      alter table ${t} enable always trigger touch`);
  }
});

describe('bad handler arguments', () => {
  it('are refused at add-table with upstream text, nothing changed', async () => {
    const { root } = chain;
    const before = await snapshot(root.db);
    const cases: [string, string[], string][] = [
      ['public.fn_t', ['--handler=applyfn'], "Invalid handler argument: ['func_name']"],
      [
        'public.fn_t',
        ['--handler=applyfn', '--handler-arg=func_name=f', '--handler-arg=fn=g'],
        "Invalid handler argument: ['fn']",
      ],
      ['public.qt', ['--handler=qsplitter'], "Invalid handler argument: ['queue']"],
      [
        'public.qt',
        ['--handler=qsplitter', '--handler-arg=queue='],
        "Invalid handler argument: ['queue=']",
      ],
      ['public.vt', ['--handler=vtable', '--handler-arg=x=1'], "Invalid handler argument: ['x']"],
      [
        'public.vt',
        ['--handler=fake_local', '--handler-arg=x=1'],
        "Invalid handler argument: ['x']",
      ],
      [
        'public.qt',
        ['--handler=qtable', '--handler-arg=queue=q'],
        "Invalid handler argument: ['queue']",
      ],
      [
        'public.b0',
        ['--handler=bulk', '--handler-arg=method=3'],
        "Invalid handler argument: ['method=3']",
      ],
      [
        'public.b0',
        ['--handler=bulk', '--handler-arg=mode=1'],
        "Invalid handler argument: ['mode']",
      ],
      ['public.s1', ['--handler=shard'], 'Specify hash key field as hash_key argument'],
      [
        'public.s1',
        ['--handler=shard', '--handler-arg=key=id', '--handler-arg=hashfunc=f'],
        "Invalid handler argument: ['hashfunc']",
      ],
      [
        'public.s1',
        ['--handler=part', '--handler-arg=key=id', '--handler-arg=disable_replay=2'],
        "Invalid handler argument: ['disable_replay=2']",
      ],
    ];
    for (const [table, args, text] of cases) {
      const result = await londiste([root.ini, 'add-table', table, ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(text);
    }
    expect(await snapshot(root.db)).toEqual(before);
  });
});

describe('root -> leaf with every handler', () => {
  it('adds, copies and replays while the producer writes', { timeout: 240_000 }, async () => {
    const { root, leaf, queue } = chain;
    await ok([root.ini, 'add-table', 'public.qt', 'public.qt2', '--handler=qtable']);
    await ok([root.ini, 'add-table', 'public.s3', '--handler=shard', '--handler-arg=key=id']);
    await ok([root.ini, 'add-table', 'public.fn_t', 'public.vt', ...bulkTables]);
    await ok([root.ini, 'add-table', 'public.s1', '--handler=shard', '--handler-arg=key=id']);
    await ok([root.ini, 'add-table', 'public.s2', '--handler=shard', '--handler-arg=hash_key=id']);
    await ok([
      leaf.ini,
      'add-table',
      'public.qt',
      '--handler=qsplitter',
      '--handler-arg=queue=split_q',
    ]);
    await ok([leaf.ini, 'add-table', 'public.vt', '--handler=vtable']);
    // Handlers that store nothing need no table on a replica.
    await ok([leaf.ini, 'add-table', 'public.qt2', '--handler=qtable']);
    await ok([
      leaf.ini,
      'add-table',
      'public.s3',
      '--handler=shard',
      '--handler-arg=key=id',
      '--handler-arg=disable_replay=1',
    ]);
    await ok([
      leaf.ini,
      'add-table',
      'public.fn_t',
      '--handler=applyfn',
      '--handler-arg=func_name=public.record_event',
      '--handler-arg=func_conf=cfg & more',
    ]);
    for (const [i, t] of bulkTables.entries()) {
      await ok([leaf.ini, 'add-table', t, '--handler=bulk', `--handler-arg=method=${i}`]);
    }
    await ok([leaf.ini, 'add-table', 'public.s1', '--handler=shard', '--handler-arg=key=id']);
    await ok([
      leaf.ini,
      'add-table',
      'public.s2',
      '--handler=part',
      '--handler-arg=key=id',
      '--handler-arg=disable_replay=1',
    ]);
    // Virtual tables are ok at once, with no table here; the others wait for their copy.
    const before = await states(leaf.db, queue);
    expect(before['public.qt']).toBe('ok');
    expect(before['public.vt']).toBe('ok');
    expect(before['public.qt2']).toBe('ok');
    expect(before['public.s3']).toBe('ok');
    expect(before['public.fn_t']).toBeNull();
    const { rows: rels } = await leaf.db.query(
      `select to_regclass('public.qt') as qt, to_regclass('public.vt') as vt,
              to_regclass('public.qt2') as qt2, to_regclass('public.s3') as s3`,
    );
    expect(rels).toEqual([{ qt: null, vt: null, qt2: null, s3: null }]);

    const producer = startProducer(root.db, () => written, 1);
    startWorker();
    try {
      await poll(
        () => states(leaf.db, queue),
        (s) => s['public.fn_t'] === 'ok',
        90_000,
        (s) => `fn_t not ok: ${JSON.stringify(s)}\n${chain.why()}`,
      );
      afterCopy = BigInt((await rootEvents(chain, 'public.fn_t')).at(-1)?.ev_id ?? '0');
      const ops = producer.ops;
      await poll(
        async () => producer.ops,
        (n) => n >= ops + 400,
        60_000,
      );
      await synced(chain, written);
      await producer.stop();
      await synced(chain, written);
      if (process.env.SHOW_LOG) console.log(chain.why());
    } finally {
      await producer.stop();
    }
  });

  it('qtable stores no row on the root; qsplitter puts its events into split_q', async () => {
    const { root, leaf } = chain;
    expect((await root.db.query('select count(*)::int as n from public.qt')).rows[0].n).toBe(0);
    const { rows: triggers } = await root.db.query(
      `select pg_get_triggerdef(oid) as def from pg_trigger
        where tgrelid = 'public.qt'::regclass and not tgisinternal order by tgname`,
    );
    expect(triggers.map((t) => t.def)).toEqual([
      expect.stringMatching(/AFTER TRUNCATE ON public\.qt FOR EACH STATEMENT/),
      expect.stringMatching(/BEFORE INSERT ON public\.qt FOR EACH ROW .*logutriga\('hq', 'SKIP'\)/),
    ]);
    const events = await rootEvents(chain, 'public.qt');
    expect(events.length).toBeGreaterThan(10);
    expect(events.every((e) => e.ev_type === 'I:id')).toBe(true);
    const { rows: info } = await leaf.db.query(
      "select queue_data_pfx from pgq.queue where queue_name = 'split_q'",
    );
    const { rows: split } = await leaf.db.query(
      `select ev_time::text, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
         from ${info[0].queue_data_pfx} order by ev_data`,
    );
    const expected = events
      .map(({ ev_id: _id, ev_txid: _txid, ...fields }) => fields)
      .sort((a, b) => (a.ev_data < b.ev_data ? -1 : a.ev_data > b.ev_data ? 1 : 0));
    expect(split).toEqual(expected);
  });

  it('vtable keeps no table and ignores the events', async () => {
    expect((await chain.leaf.db.query("select to_regclass('public.vt') as t")).rows).toEqual([
      { t: null },
    ]);
    expect(await rootEvents(chain, 'public.vt')).not.toEqual([]);
  });

  it('applyfn calls the function once per event after the copy', async () => {
    const { root, leaf } = chain;
    // The copy brought the rows (the seeded ones never change) ...
    const seeded = 'select * from public.fn_t where id <= 300 order by id';
    expect((await leaf.db.query(seeded)).rows).toEqual((await root.db.query(seeded)).rows);
    // ... and the function got each later event once, with upstream's arguments.
    const { rows: log } = await leaf.db.query(
      `select conf, tick_id, ev_id::text, ev_time::text, ev_txid::text, ev_retry, ev_type,
              ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
         from public.fn_log l order by l.ev_id`,
    );
    const events = new Map(
      (await rootEvents(chain, 'public.fn_t')).map((e) => [e.ev_id as string, e]),
    );
    const seen = new Set<string>();
    for (const call of log) {
      expect(seen.has(call.ev_id), `event ${call.ev_id} twice`).toBe(false);
      seen.add(call.ev_id);
      const { conf, tick_id, ev_retry, ...event } = call;
      expect(conf).toBe('cfg & more');
      expect(tick_id).not.toBeNull();
      expect(ev_retry).toBeNull();
      expect(event).toEqual(events.get(call.ev_id));
    }
    const later = [...events.keys()].filter((id) => BigInt(id) > afterCopy);
    expect(later.length).toBeGreaterThan(10);
    expect(later.filter((id) => !seen.has(id))).toEqual([]);
  });

  it('bulk replays into the root rows with methods 0, 1 and 2, collapsed per key', async () => {
    const { root, leaf } = chain;
    for (const t of bulkTables) {
      expect(await tableRows(leaf.db, t), t).toEqual(await tableRows(root.db, t));
    }
    // One root transaction per table: key 9001 inserted, updated and deleted; 9002 inserted
    // and updated; seeded key 1 updated twice; seeded key 2 deleted and inserted again.
    await leaf.db.query('truncate public.touched');
    for (const t of bulkTables) {
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
    await synced(chain, bulkTables);
    for (const t of bulkTables) {
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
  });

  it('shard copies and applies the leaf shard only', async () => {
    const { root, leaf } = chain;
    const mine = 'select * from public.s1 where hashint4(id) & 3 = 1 order by id';
    const rows = (await root.db.query(mine)).rows;
    expect(rows.length).toBeGreaterThan(50);
    expect(await tableRows(leaf.db, 'public.s1')).toEqual(rows);
    expect(await tableRows(leaf.db, 'public.s2')).toEqual([]);
    // Every event of the root carries its row's hash.
    const events = await rootEvents(chain, 'public.s1');
    expect(events.length).toBeGreaterThan(50);
    const { rows: hashes } = await root.db.query(
      'select id, hashint4(id)::text as h from generate_series(1, 200000) id where id = any($1)',
      [events.map((e) => Number(/(?:^|&)id=(\d+)/.exec(e.ev_data)?.[1]))],
    );
    const hashOf = new Map(hashes.map((r) => [r.id, r.h]));
    for (const event of events) {
      const id = Number(/(?:^|&)id=(\d+)/.exec(event.ev_data)?.[1]);
      expect(event.ev_extra3).toBe(`hash=${hashOf.get(id)}`);
    }
  });

  it('shard checks the shard info of the node', async () => {
    const { leaf } = chain;
    const make = () =>
      createTableHandler(
        { name: 'shard', args: { key: 'id' } },
        { tableName: 'public.s1', destTable: 'public.s1', config },
      );
    for (const [row, text] of [
      ['0, 3, 5', 'Invalid shard info'],
      ['0, 1, 4', 'Invalid shard info'],
      ['4, 3, 4', 'Invalid shard nr'],
      ['-1, 3, 4', 'Invalid shard nr'],
      ['null, 3, 4', 'Invalid shard info'],
    ]) {
      await leaf.db.query(
        `truncate public.shard_conf; insert into public.shard_conf values (${row})`,
      );
      await expect(make().copyCondition(leaf.db), row).rejects.toThrow(text);
    }
    await leaf.db.query(
      'truncate public.shard_conf; insert into public.shard_conf values (2, 7, 8)',
    );
    expect(await make().copyCondition(leaf.db)).toBe('(pg_catalog.hashint4(id) & 7) = 2');
    await leaf.db.query(
      'truncate public.shard_conf; insert into public.shard_conf values (1, 3, 4)',
    );
  });

  it('shard forwards only the events of its shard (a branch passes on these)', async () => {
    const handler = createTableHandler(
      { name: 'shard', args: { key: 'id' } },
      { tableName: 'public.s1', destTable: 'public.s1', config },
    );
    await handler.prepareBatch?.({
      client: chain.leaf.db,
      queue: chain.queue,
      batchId: 0,
      tick: '0',
      log: silentLogger,
    });
    const retries = new BatchRetries(0, { queue: chain.queue, consumer: 'test' });
    const events = (await rootEvents(chain, 'public.s1')).map(
      (e) =>
        new Event(
          [
            e.ev_id,
            e.ev_time,
            e.ev_txid,
            null,
            e.ev_type,
            e.ev_data,
            e.ev_extra1,
            e.ev_extra2,
            e.ev_extra3,
            e.ev_extra4,
          ],
          retries,
        ),
    );
    const kept = events.filter((e) => handler.forwardEvent?.(e) !== null);
    const { rows } = await chain.root.db.query(
      'select array_agg(i) as ids from unnest($1::int[]) i where hashint4(i) & 3 = 1',
      [events.map((e) => Number(/(?:^|&)id=(\d+)/.exec(e.data ?? '')?.[1]))],
    );
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(events.length);
    expect(kept.map((e) => Number(/(?:^|&)id=(\d+)/.exec(e.data ?? '')?.[1]))).toEqual(rows[0].ids);
    // An event without a hash is everybody's.
    const plain = new Event(
      ['1', null, '1', null, 'I:id', 'id=1', 'public.s1', null, null, null],
      retries,
    );
    expect(handler.forwardEvent?.(plain)).toBe(plain.row);
  });
});

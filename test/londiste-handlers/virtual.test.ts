/**
 * The handlers that store no rows of their own, through the real leaf worker while a
 * producer writes on the root: `qtable` on the root (inserts become events, the table stays
 * empty), `qsplitter` on the leaf (those events land in a local queue as they came),
 * `vtable` (a table marked local without a table, its events ignored) and `applyfn` (a
 * function called per event with upstream's arguments, after the table's copy). Bad
 * arguments are refused at add-table with upstream's text, nothing changed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { snapshot } from '../londiste-admin/helpers.js';
import { seedRows, startProducer, tableDdl } from '../londiste-worker/helpers.js';
import { londiste, ok, poll, rootEvents, states, synced, useChain } from './helpers.js';

const test = useTestDatabase();
const { chain, startWorker } = useChain(test, 'vq');

beforeAll(async () => {
  const { root, leaf } = chain;
  for (const t of ['public.qt', 'public.fn_t', 'public.vt']) await root.db.query(tableDdl(t));
  await seedRows(root.db, 'public.fn_t', 200);
  await seedRows(root.db, 'public.vt', 50);
  await leaf.db.query(`
    ${tableDdl('public.fn_t')};
    create table public.fn_log (conf text, tick_id bigint, ev_id bigint, ev_time timestamptz,
      ev_txid bigint, ev_retry int, ev_type text, ev_data text, ev_extra1 text, ev_extra2 text,
      ev_extra3 text, ev_extra4 text);
    create function public.record_event(conf text, tick_id bigint, ev_id bigint,
        ev_time timestamptz, ev_txid bigint, ev_retry int, ev_type text, ev_data text,
        e1 text, e2 text, e3 text, e4 text) returns void language sql as
      $$ insert into public.fn_log values (conf, tick_id, ev_id, ev_time, ev_txid, ev_retry,
           ev_type, ev_data, e1, e2, e3, e4) $$;
    select pgq.create_queue('split_q');`);
});

describe('bad handler arguments', () => {
  it('are refused at add-table with upstream text, nothing changed', async () => {
    const { root } = chain;
    const before = await snapshot(root.db);
    const cases: [string[], string][] = [
      [['--handler=applyfn'], "Invalid handler argument: ['func_name']"],
      [
        ['--handler=applyfn', '--handler-arg=func_name=f', '--handler-arg=fn=g'],
        "Invalid handler argument: ['fn']",
      ],
      [['--handler=qsplitter'], "Invalid handler argument: ['queue']"],
      [['--handler=qsplitter', '--handler-arg=queue='], "Invalid handler argument: ['queue=']"],
      [['--handler=vtable', '--handler-arg=x=1'], "Invalid handler argument: ['x']"],
      [['--handler=fake_local', '--handler-arg=x=1'], "Invalid handler argument: ['x']"],
      [['--handler=qtable', '--handler-arg=queue=q'], "Invalid handler argument: ['queue']"],
    ];
    for (const [args, text] of cases) {
      const result = await londiste([root.ini, 'add-table', 'public.qt', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(text);
    }
    expect(await snapshot(root.db)).toEqual(before);
  });
});

describe('qtable, qsplitter, vtable and applyfn', () => {
  it('replay root -> leaf while the producer writes', { timeout: 240_000 }, async () => {
    const { root, leaf, queue } = chain;
    await ok([root.ini, 'add-table', 'public.qt', '--handler=qtable']);
    await ok([root.ini, 'add-table', 'public.fn_t', 'public.vt']);
    // qtable: a BEFORE INSERT trigger with SKIP (and the truncate trigger).
    const { rows: triggers } = await root.db.query(
      `select tgname, pg_get_triggerdef(oid) as def from pg_trigger
        where tgrelid = 'public.qt'::regclass and not tgisinternal order by tgname`,
    );
    expect(triggers.map((t) => t.def)).toEqual([
      expect.stringMatching(/AFTER TRUNCATE ON public\.qt FOR EACH STATEMENT/),
      expect.stringMatching(/BEFORE INSERT ON public\.qt FOR EACH ROW .*logutriga\('vq', 'SKIP'\)/),
    ]);

    await ok([
      leaf.ini,
      'add-table',
      'public.qt',
      '--handler=qsplitter',
      '--handler-arg=queue=split_q',
    ]);
    await ok([leaf.ini, 'add-table', 'public.vt', '--handler=vtable']);
    await ok([
      leaf.ini,
      'add-table',
      'public.fn_t',
      '--handler=applyfn',
      '--handler-arg=func_name=public.record_event',
      '--handler-arg=func_conf=cfg & more',
    ]);
    // Virtual tables are ok at once, with no table and no trigger here.
    expect(await states(leaf.db, queue)).toEqual({
      'public.qt': 'ok',
      'public.vt': 'ok',
      'public.fn_t': null,
    });
    const { rows: rels } = await leaf.db.query(
      "select to_regclass('public.qt') as qt, to_regclass('public.vt') as vt",
    );
    expect(rels).toEqual([{ qt: null, vt: null }]);

    const producer = startProducer(root.db, () => ['public.qt', 'public.fn_t', 'public.vt']);
    const worker = startWorker();
    try {
      await poll(
        () => states(leaf.db, queue),
        (s) => s['public.fn_t'] === 'ok',
        90_000,
        (s) => `fn_t not ok: ${JSON.stringify(s)}\n${chain.why()}`,
      );
      // Every event from here on is later than the copy's snapshot: the function must see it.
      const events = await rootEvents(chain, 'public.fn_t');
      const afterCopy = BigInt(events.at(-1)?.ev_id ?? '0');
      const ops = producer.ops;
      await poll(
        async () => producer.ops,
        (n) => n >= ops + 150,
        60_000,
      );
      await producer.stop();
      await synced(chain, ['public.qt', 'public.vt', 'public.fn_t']);
      expect(worker.child.exitCode).toBeNull();

      // qtable: no row stored on the root, an insert event per row.
      expect((await root.db.query('select count(*)::int as n from public.qt')).rows[0].n).toBe(0);
      const qtEvents = await rootEvents(chain, 'public.qt');
      expect(qtEvents.length).toBeGreaterThan(10);
      expect(qtEvents.every((e) => e.ev_type === 'I:id')).toBe(true);
      // qsplitter: the same events in the leaf's split_q, as they came.
      const { rows: splitInfo } = await leaf.db.query(
        "select queue_data_pfx from pgq.queue where queue_name = 'split_q'",
      );
      const { rows: split } = await leaf.db.query(
        `select ev_time::text, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
           from ${splitInfo[0].queue_data_pfx} order by ev_data`,
      );
      const expected = qtEvents
        .map(({ ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 }) => ({
          ev_time,
          ev_type,
          ev_data,
          ev_extra1,
          ev_extra2,
          ev_extra3,
          ev_extra4,
        }))
        .sort((a, b) => (a.ev_data < b.ev_data ? -1 : a.ev_data > b.ev_data ? 1 : 0));
      expect(split).toEqual(expected);

      // vtable: still no table, its events ignored.
      expect((await leaf.db.query("select to_regclass('public.vt') as t")).rows).toEqual([
        { t: null },
      ]);

      // applyfn: the copy brought the rows (the seeded ones never change) ...
      const seeded = 'select * from public.fn_t where id <= 200 order by id';
      expect((await leaf.db.query(seeded)).rows).toEqual((await root.db.query(seeded)).rows);
      // ... and the function got each later event once, with upstream's arguments.
      const { rows: log } = await leaf.db.query(
        `select conf, tick_id, ev_id::text, ev_time::text, ev_txid::text, ev_retry, ev_type,
                ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
           from public.fn_log l order by l.ev_id`,
      );
      const root_ = new Map(
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
        expect(event).toEqual(root_.get(call.ev_id));
      }
      const later = [...root_.keys()].filter((id) => BigInt(id) > afterCopy);
      expect(later.length).toBeGreaterThan(10);
      expect(later.filter((id) => !seen.has(id))).toEqual([]);
    } finally {
      await producer.stop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  expectPgError,
  hostileQueueNames,
  inTransaction,
  queueId,
  tickIds,
} from './queue-core-helpers.js';

const db = useTestDatabase();

/** Relations of schema pgq named `event_<id>` or `event_<id>_...`, with their kind. */
async function queueObjects(id: number): Promise<{ relname: string; relkind: string }[]> {
  const { rows } = await db.query<{ relname: string; relkind: string }>(
    `select c.relname, c.relkind::text from pg_class c
      where c.relnamespace = 'pgq'::regnamespace and c.relname ~ $1
      order by c.relname`,
    [`^event_${id}($|_)`],
  );
  return rows;
}

async function parentOf(table: string): Promise<string[]> {
  const { rows } = await db.query<{ parent: string }>(
    `select inhparent::regclass::text as parent from pg_inherits
      where inhrelid = $1::regclass order by inhseqno`,
    [table],
  );
  return rows.map((row) => row.parent);
}

async function queueRow(name: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query('select * from pgq.queue where queue_name = $1', [name]);
  return rows[0];
}

/** Register a consumer by hand (the consumer functions are tested elsewhere). */
async function attachConsumer(queue: string, consumer: string): Promise<void> {
  await db.query(
    `with c as (insert into pgq.consumer (co_name) values ($2)
                on conflict (co_name) do update set co_name = excluded.co_name
                returning co_id)
     insert into pgq.subscription (sub_queue, sub_consumer, sub_last_tick)
     select q.queue_id, c.co_id, 1 from pgq.queue q, c where q.queue_name = $1`,
    [queue, consumer],
  );
}

describe('pgq.create_queue', () => {
  it('returns 1 when created and 0 when the queue exists', async () => {
    const first = await db.query('select pgq.create_queue($1) as r', ['cq_first']);
    const second = await db.query('select pgq.create_queue($1) as r', ['cq_second']);
    const again = await db.query('select pgq.create_queue($1) as r', ['cq_first']);
    expect([first.rows[0]?.r, second.rows[0]?.r, again.rows[0]?.r]).toEqual([1, 1, 0]);
  });

  it('creates the per-queue objects of queue id N', async () => {
    await db.query("select pgq.create_queue('cq_objects')");
    const id = await queueId(db, 'cq_objects');
    const row = await queueRow('cq_objects');
    expect(row).toMatchObject({
      queue_id: id,
      queue_ntables: 3,
      queue_cur_table: 0,
      queue_data_pfx: `pgq.event_${id}`,
      queue_event_seq: `pgq.event_${id}_id_seq`,
      queue_tick_seq: `pgq.event_${id}_tick_seq`,
      queue_ticker_max_count: 500,
      queue_external_ticker: false,
      queue_disable_insert: false,
      queue_ticker_paused: false,
      queue_per_tx_limit: null,
    });

    expect(await queueObjects(id)).toEqual([
      { relname: `event_${id}`, relkind: 'r' },
      { relname: `event_${id}_0`, relkind: 'r' },
      { relname: `event_${id}_0_txid_idx`, relkind: 'i' },
      { relname: `event_${id}_1`, relkind: 'r' },
      { relname: `event_${id}_1_txid_idx`, relkind: 'i' },
      { relname: `event_${id}_2`, relkind: 'r' },
      { relname: `event_${id}_2_txid_idx`, relkind: 'i' },
      { relname: `event_${id}_id_seq`, relkind: 'S' },
      { relname: `event_${id}_tick_seq`, relkind: 'S' },
    ]);

    expect(await parentOf(`pgq.event_${id}`)).toEqual(['pgq.event_template']);
    for (const i of [0, 1, 2]) {
      const table = `pgq.event_${id}_${i}`;
      expect(await parentOf(table)).toEqual([`pgq.event_${id}`]);
      const { rows } = await db.query<{ def: string; options: string[]; idx: string }>(
        `select pg_get_expr(d.adbin, d.adrelid) as def, c.reloptions as options,
                (select indexdef from pg_indexes
                  where schemaname = 'pgq' and tablename = c.relname) as idx
           from pg_class c
           join pg_attribute a on a.attrelid = c.oid and a.attname = 'ev_id'
           join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
          where c.oid = $1::regclass`,
        [table],
      );
      expect(rows[0]?.def).toBe(`nextval('pgq.event_${id}_id_seq'::regclass)`);
      expect(rows[0]?.options).toEqual(['fillfactor=100', 'autovacuum_enabled=off']);
      expect(rows[0]?.idx).toBe(
        `CREATE INDEX event_${id}_${i}_txid_idx ON pgq.event_${id}_${i} USING btree (ev_txid)`,
      );
      const toast = await db.query<{ options: string[] }>(
        `select t.reloptions as options from pg_class c join pg_class t on t.oid = c.reltoastrelid
          where c.oid = $1::regclass`,
        [table],
      );
      expect(toast.rows[0]?.options).toEqual(['autovacuum_enabled=off']);
    }

    // The first tick exists, numbered from the queue's tick sequence.
    expect(await tickIds(db, 'cq_objects')).toEqual([1]);
    const seqs = await db.query<{ ev: string; tick: string }>(
      `select pgq.seq_getval($1) as ev, pgq.seq_getval($2) as tick`,
      [`pgq.event_${id}_id_seq`, `pgq.event_${id}_tick_seq`],
    );
    expect(seqs.rows[0]).toEqual({ ev: '1', tick: '1' });
  });

  it('allocates queue ids from the serial, one per queue', async () => {
    await db.query("select pgq.create_queue('cq_serial_a')");
    await db.query("select pgq.create_queue('cq_serial_b')");
    const a = await queueId(db, 'cq_serial_a');
    const b = await queueId(db, 'cq_serial_b');
    expect(b).toBe(a + 1);
    const { rows } = await db.query<{ v: string }>(
      'select last_value::text as v from pgq.queue_queue_id_seq',
    );
    expect(Number(rows[0]?.v)).toBe(b);
  });

  it('shows the events of every queue through pgq.event_template', async () => {
    await db.query("select pgq.create_queue('cq_inherit_a'), pgq.create_queue('cq_inherit_b')");
    await db.query("select pgq.insert_event('cq_inherit_a', 'ta', 'da')");
    await db.query("select pgq.insert_event('cq_inherit_b', 'tb', 'db')");
    const { rows } = await db.query(
      "select ev_type, ev_data from pgq.event_template where ev_type in ('ta', 'tb') order by 1",
    );
    expect(rows).toEqual([
      { ev_type: 'ta', ev_data: 'da' },
      { ev_type: 'tb', ev_data: 'db' },
    ]);
  });

  it('rejects a NULL name and changes nothing', async () => {
    const before = await db.query('select count(*)::int as n from pgq.queue');
    await expectPgError(db.query('select pgq.create_queue(NULL)'), 'Invalid NULL value');
    const after = await db.query('select count(*)::int as n from pgq.queue');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('leaves nothing behind when creating the objects fails halfway', async () => {
    // Someone else's table occupies the name the next queue id would get.
    const { rows } = await db.query<{ next: string }>(
      'select last_value + 1 as next from pgq.queue_queue_id_seq',
    );
    const next = Number(rows[0]?.next);
    await db.query(`create table pgq.event_${next}_1 (x int)`);
    await expect(db.query("select pgq.create_queue('cq_broken')")).rejects.toMatchObject({
      code: '42P07',
    });
    expect(await queueRow('cq_broken')).toBeUndefined();
    expect((await queueObjects(next)).map((r) => r.relname)).toEqual([`event_${next}_1`]);
    await db.query(`drop table pgq.event_${next}_1`);
    // The next queue works (with a gap in the ids, as after any rollback).
    await db.query("select pgq.create_queue('cq_broken')");
    expect(await queueId(db, 'cq_broken')).toBeGreaterThan(next);
  });

  it('works with hostile queue names everywhere and leaves other tables alone', async () => {
    await db.query('create table victim (id int)');
    for (const name of hostileQueueNames) {
      const label = JSON.stringify(name);
      const created = await db.query('select pgq.create_queue($1) as r', [name]);
      expect(created.rows[0]?.r, label).toBe(1);
      expect((await db.query('select pgq.create_queue($1) as r', [name])).rows[0]?.r).toBe(0);
      const ev = await db.query<{ id: string }>("select pgq.insert_event($1, 'type', $1) as id", [
        name,
      ]);
      expect(ev.rows[0]?.id, label).toBe('1');
      const tbl = await db.query<{ t: string }>('select pgq.current_event_table($1) as t', [name]);
      const id = await queueId(db, name);
      expect(tbl.rows[0]?.t).toBe(`pgq.event_${id}_0`);
      await db.query('select pgq.set_queue_config($1, $2, $3)', [name, 'ticker_max_lag', '0']);
      await db.query('select pgq.set_queue_config($1, $2, $3)', [name, 'ticker_idle_period', '0']);
      const tick = await db.query<{ t: string }>('select pgq.ticker($1) as t', [name]);
      expect(tick.rows[0]?.t, label).toBe('2');
      const forced = await db.query<{ t: string }>('select pgq.force_tick($1) as t', [name]);
      expect(forced.rows[0]?.t).toBe('2');
      await db.query('select pgq.tune_storage($1), pgq.grant_perms($1)', [name]);
      const data = await db.query('select ev_data from pgq.event_template where ev_data = $1', [
        name,
      ]);
      expect(data.rowCount, label).toBe(1);
    }
    const all = await db.query<{ n: number }>(
      'select count(*)::int as n from pgq.queue where queue_name = any($1)',
      [hostileQueueNames],
    );
    expect(all.rows[0]?.n).toBe(hostileQueueNames.length);
    for (const name of hostileQueueNames) {
      expect((await db.query('select pgq.drop_queue($1) as r', [name])).rows[0]?.r).toBe(1);
    }
    expect((await db.query('select count(*)::int as n from victim')).rows[0]?.n).toBe(0);
  });

  it('gives the same answer to concurrent creators of one name', async () => {
    const a = await db.connect();
    const b = await db.connect();
    await a.query('begin');
    await b.query('begin');
    expect((await a.query("select pgq.create_queue('cq_race') as r")).rows[0]?.r).toBe(1);
    // b waits for a's uncommitted row, then sees it committed.
    const pending = b.query("select pgq.create_queue('cq_race') as r");
    await a.query('commit');
    expect((await pending).rows[0]?.r).toBe(0);
    await b.query('commit');

    // When the first creator rolls back, the second one creates the queue.
    await a.query('begin');
    await b.query('begin');
    expect((await a.query("select pgq.create_queue('cq_race2') as r")).rows[0]?.r).toBe(1);
    const pending2 = b.query("select pgq.create_queue('cq_race2') as r");
    await a.query('rollback');
    expect((await pending2).rows[0]?.r).toBe(1);
    await b.query('commit');
    const id = await queueId(db, 'cq_race2');
    expect((await queueObjects(id)).length).toBe(9);
    expect(await tickIds(db, 'cq_race2')).toEqual([1]);
  });
});

describe('pgq.drop_queue', () => {
  it('refuses while consumers are attached, and changes nothing', async () => {
    await db.query("select pgq.create_queue('dq_busy')");
    await attachConsumer('dq_busy', 'dq_consumer');
    await expectPgError(
      db.query("select pgq.drop_queue('dq_busy')"),
      'cannot drop queue, consumers still attached',
    );
    await expectPgError(
      db.query("select pgq.drop_queue('dq_busy', false)"),
      'cannot drop queue, consumers still attached',
    );
    const id = await queueId(db, 'dq_busy');
    expect((await queueObjects(id)).length).toBe(9);
  });

  it('forced: unregisters consumers, then removes tables, sequences, ticks and the row', async () => {
    await db.query("select pgq.create_queue('dq_forced'), pgq.create_queue('dq_other')");
    const id = await queueId(db, 'dq_forced');
    await db.query("select pgq.insert_event('dq_forced', 't', 'd')");
    await attachConsumer('dq_forced', 'dq_only_here');
    await attachConsumer('dq_forced', 'dq_shared');
    await attachConsumer('dq_other', 'dq_shared');
    await db.query(
      `insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_owner, ev_type)
       select now(), s.sub_queue, 99, now(), s.sub_id, 'retry'
         from pgq.subscription s where s.sub_queue = $1`,
      [id],
    );

    expect((await db.query("select pgq.drop_queue('dq_forced', true) as r")).rows[0]?.r).toBe(1);

    expect(await queueRow('dq_forced')).toBeUndefined();
    expect(await queueObjects(id)).toEqual([]);
    const leftovers = await db.query<{ ticks: number; subs: number; retries: number }>(
      `select (select count(*)::int from pgq.tick where tick_queue = $1) as ticks,
              (select count(*)::int from pgq.subscription where sub_queue = $1) as subs,
              (select count(*)::int from pgq.retry_queue where ev_queue = $1) as retries`,
      [id],
    );
    expect(leftovers.rows[0]).toEqual({ ticks: 0, subs: 0, retries: 0 });
    const consumers = await db.query<{ co_name: string }>(
      "select co_name from pgq.consumer where co_name like 'dq\\_%' order by 1",
    );
    expect(consumers.rows.map((r) => r.co_name)).toEqual(['dq_consumer', 'dq_shared']);
    // The other queue and its subscription are untouched.
    const other = await queueId(db, 'dq_other');
    expect((await queueObjects(other)).length).toBe(9);
    const subs = await db.query('select 1 from pgq.subscription where sub_queue = $1', [other]);
    expect(subs.rowCount).toBe(1);
  });

  it('drops an idle queue with both forms', async () => {
    await db.query("select pgq.create_queue('dq_idle1'), pgq.create_queue('dq_idle2')");
    const id2 = await queueId(db, 'dq_idle2');
    expect((await db.query("select pgq.drop_queue('dq_idle1') as r")).rows[0]?.r).toBe(1);
    expect((await db.query("select pgq.drop_queue('dq_idle2', false) as r")).rows[0]?.r).toBe(1);
    expect(await queueRow('dq_idle1')).toBeUndefined();
    expect(await queueObjects(id2)).toEqual([]);
    // The name can be used again, with a new id.
    await db.query("select pgq.create_queue('dq_idle2')");
    expect(await queueId(db, 'dq_idle2')).toBeGreaterThan(id2);
  });

  it('reports unknown and NULL queues', async () => {
    await expectPgError(db.query("select pgq.drop_queue('dq_nope')"), 'No such event queue');
    await expectPgError(db.query("select pgq.drop_queue('dq_nope', true)"), 'No such event queue');
    await expectPgError(db.query('select pgq.drop_queue(NULL, true)'), 'No such event queue');
    const strict = await db.query('select pgq.drop_queue(NULL) as r');
    expect(strict.rows[0]?.r).toBeNull();
  });
});

describe('pgq.set_queue_config', () => {
  const settings: [string, string, string, unknown][] = [
    ['ticker_max_count', '7', 'queue_ticker_max_count', 7],
    ['ticker_max_lag', '7 seconds', 'queue_ticker_max_lag::text', '00:00:07'],
    ['ticker_idle_period', '7 minutes', 'queue_ticker_idle_period::text', '00:07:00'],
    ['ticker_paused', 'true', 'queue_ticker_paused', true],
    ['rotation_period', '7 hours', 'queue_rotation_period::text', '07:00:00'],
    ['external_ticker', 'on', 'queue_external_ticker', true],
  ];

  it.each(settings)('sets %s', async (param, value, column, expected) => {
    const queue = `sqc_${param}`;
    await db.query('select pgq.create_queue($1)', [queue]);
    const r = await db.query('select pgq.set_queue_config($1, $2, $3) as r', [queue, param, value]);
    expect(r.rows[0]?.r).toBe(1);
    const { rows } = await db.query(`select ${column} as v from pgq.queue where queue_name = $1`, [
      queue,
    ]);
    expect(rows[0]?.v).toEqual(expected);
    // Other queues keep their setting.
    const others = await db.query(
      `select count(*)::int as n from pgq.queue where queue_name <> $1 and ${column} = $2`,
      [queue, expected],
    );
    expect(others.rows[0]?.n).toBe(0);
  });

  it('rejects other parameters with upstream text, typo included', async () => {
    await db.query("select pgq.create_queue('sqc_bad')");
    for (const param of [
      'disable_insert',
      'per_tx_limit',
      'queue_ticker_max_count',
      'ntables',
      'x = 1, queue_disable_insert',
    ]) {
      await expectPgError(
        db.query("select pgq.set_queue_config('sqc_bad', $1, 'true')", [param]),
        `cannot change parameter "${param}s"`,
      );
    }
    expect(await queueRow('sqc_bad')).toMatchObject({ queue_disable_insert: false });
  });

  it('rejects unknown and NULL queues and NULL names', async () => {
    await expectPgError(
      db.query("select pgq.set_queue_config('sqc_nope', 'ticker_max_count', '1')"),
      'No such event queue',
    );
    await expectPgError(
      db.query("select pgq.set_queue_config(NULL, 'ticker_max_count', '1')"),
      'Invalid NULL value',
    );
    await expectPgError(
      db.query("select pgq.set_queue_config('sqc_nope', NULL, '1')"),
      'Invalid NULL value',
    );
  });

  it('leaves the value alone when it does not fit the column', async () => {
    await db.query("select pgq.create_queue('sqc_values')");
    await db.query('create table victim2 (id int)');
    await expect(
      db.query(
        "select pgq.set_queue_config('sqc_values', 'ticker_max_count', '1; drop table victim2')",
      ),
    ).rejects.toMatchObject({ code: '22P02' });
    await expect(
      db.query("select pgq.set_queue_config('sqc_values', 'ticker_max_lag', NULL)"),
    ).rejects.toMatchObject({ code: '23502' });
    await expect(
      db.query("select pgq.set_queue_config('sqc_values', 'ticker_max_lag', ''' || now()')"),
    ).rejects.toMatchObject({ code: '22007' });
    expect(await queueRow('sqc_values')).toMatchObject({ queue_ticker_max_count: 500 });
    const lag = await db.query(
      "select queue_ticker_max_lag::text as v from pgq.queue where queue_name = 'sqc_values'",
    );
    expect(lag.rows[0]?.v).toBe('00:00:03');
    expect((await db.query('select count(*)::int as n from victim2')).rows[0]?.n).toBe(0);
  });
});

describe('storage and grant helpers', () => {
  it('tune_storage sets the options again after they were changed', async () => {
    await db.query("select pgq.create_queue('ts_queue')");
    const id = await queueId(db, 'ts_queue');
    await db.query(`alter table pgq.event_${id}_1 reset (fillfactor, autovacuum_enabled)`);
    expect((await db.query("select pgq.tune_storage('ts_queue') as r")).rows[0]?.r).toBe(1);
    const { rows } = await db.query('select reloptions from pg_class where oid = $1::regclass', [
      `pgq.event_${id}_1`,
    ]);
    expect(rows[0]?.reloptions).toEqual(['fillfactor=100', 'autovacuum_enabled=off']);
    expect((await db.query('select pgq.tune_storage(NULL) as r')).rows[0]?.r).toBeNull();
    await expectPgError(db.query("select pgq.tune_storage('ts_nope')"), 'Queue not found');
    await expectPgError(db.query("select pgq.grant_perms('ts_nope')"), 'Queue not found');
  });

  it('_grant_perms_from copies privileges to PUBLIC', async () => {
    await db.query('create table gp_src (x int)');
    await db.query('create table gp_dst (x int)');
    await db.query('grant select, insert on gp_src to public');
    const r = await db.query(
      "select pgq._grant_perms_from('public', 'gp_src', 'public', 'gp_dst') as r",
    );
    expect(r.rows[0]?.r).toBe(1);
    const { rows } = await db.query<{ grantee: string; privilege_type: string }>(
      `select coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') as grantee, a.privilege_type
         from pg_class c, aclexplode(c.relacl) a
        where c.oid = 'gp_dst'::regclass order by 1, 2`,
    );
    // The owner (the test user) keeps its own full rights; PUBLIC got what it had.
    expect(rows.filter((row) => row.grantee === 'PUBLIC')).toEqual([
      { grantee: 'PUBLIC', privilege_type: 'INSERT' },
      { grantee: 'PUBLIC', privilege_type: 'SELECT' },
    ]);
    const strict = await db.query(
      "select pgq._grant_perms_from(NULL, 'gp_src', 'public', 'gp_dst') as r",
    );
    expect(strict.rows[0]?.r).toBeNull();
  });

  it('new queues get the privileges of pgq.event_template; sequences are readable by all', async () => {
    await inTransaction(await db.connect(), async (client) => {
      await client.query('grant select on pgq.event_template to public');
      await client.query("select pgq.create_queue('gp_queue')");
      const id = await queueId(client, 'gp_queue');
      for (const table of [`pgq.event_${id}`, `pgq.event_${id}_0`, `pgq.event_${id}_2`]) {
        const { rows } = await client.query(
          "select has_table_privilege('public', $1, 'select') as s, has_table_privilege('public', $1, 'insert') as i",
          [table],
        );
        expect(rows[0], table).toEqual({ s: true, i: false });
      }
      for (const seq of [`pgq.event_${id}_id_seq`, `pgq.event_${id}_tick_seq`]) {
        const { rows } = await client.query(
          "select has_sequence_privilege('public', $1, 'select') as s, has_sequence_privilege('public', $1, 'usage') as u",
          [seq],
        );
        expect(rows[0], seq).toEqual({ s: true, u: false });
      }
      await client.query('revoke select on pgq.event_template from public');
    });
  });
});

describe('sequence and name helpers', () => {
  it('seq_getval reads without advancing; seq_setval only moves forward', async () => {
    await db.query('create sequence "Odd.Schema_seq"');
    await db.query('create schema "Sch ema"');
    await db.query('create sequence "Sch ema"."my seq"');
    await db.query(`select nextval('"Sch ema"."my seq"')`);
    const get = async (name: string) =>
      (await db.query<{ v: string }>('select pgq.seq_getval($1) as v', [name])).rows[0]?.v;
    expect(await get('Sch ema.my seq')).toBe('1');
    expect(await get('Sch ema.my seq')).toBe('1');
    expect((await db.query("select pgq.seq_setval('Sch ema.my seq', 10) as v")).rows[0]?.v).toBe(
      '10',
    );
    expect(await get('Sch ema.my seq')).toBe('10');
    expect((await db.query("select pgq.seq_setval('Sch ema.my seq', 5) as v")).rows[0]?.v).toBe(
      '10',
    );
    expect((await db.query(`select nextval('"Sch ema"."my seq"') as v`)).rows[0]?.v).toBe('11');
    expect((await db.query('select pgq.seq_getval(NULL) as v')).rows[0]?.v).toBeNull();
    expect((await db.query("select pgq.seq_setval('x', NULL) as v")).rows[0]?.v).toBeNull();
    // No dot: schema public. A name with a dot inside cannot be reached (first dot splits).
    await db.query('create sequence plain_seq');
    expect(await get('plain_seq')).toBe('1');
    await expect(db.query("select pgq.seq_getval('Odd.Schema_seq')")).rejects.toMatchObject({
      code: '42P01',
    });
  });

  it('quote_fqname splits at the first dot and defaults to public', async () => {
    const cases: [string, string][] = [
      ['plain', 'public.plain'],
      ['pgq.event_1', 'pgq.event_1'],
      ['Sch.Tbl', '"Sch"."Tbl"'],
      ['a.b.c', 'a."b.c"'],
      ['with space', 'public."with space"'],
      ['q"s.t', '"q""s".t'],
      ['.x', '"".x'],
    ];
    for (const [input, expected] of cases) {
      const { rows } = await db.query('select pgq.quote_fqname($1) as q', [input]);
      expect(rows[0]?.q, input).toBe(expected);
    }
    expect((await db.query('select pgq.quote_fqname(NULL) as q')).rows[0]?.q).toBeNull();
  });
});

describe('versions', () => {
  it('pgq.version() is the upstream API version clients check', async () => {
    const { rows } = await db.query<{ v: string }>('select pgq.version() as v');
    expect(rows[0]?.v).toBe('3.5');
    expect(rows[0]?.v.startsWith('3')).toBe(true);
  });

  it('pgq.skytools_version() names our package and schema revision', async () => {
    const { rows } = await db.query<{ v: string }>('select pgq.skytools_version() as v');
    expect(rows[0]?.v).toMatch(/^skytools \d+\.\d+\.\d+ schema \d+$/);
  });
});

describe('security definer functions', () => {
  it('work whatever search_path the caller has', async () => {
    const client = await db.connect();
    await client.query('create schema decoy');
    await client.query('create table decoy.queue (queue_name text)');
    await client.query(
      "create function decoy.nextval(regclass) returns bigint language sql as 'select -1::bigint'",
    );
    await client.query('set search_path = decoy, public');
    await client.query("select pgq.create_queue('sd_path')");
    const ev = await client.query("select pgq.insert_event('sd_path', 't', 'd') as id");
    expect(ev.rows[0]?.id).toBe('1');
    await client.query("select pgq.ticker('sd_path')");
    await client.query("select pgq.set_queue_config('sd_path', 'ticker_max_count', '9')");
    await client.query("select pgq.current_event_table('sd_path')");
    await client.query("set search_path = ''");
    // force_tick: event seq 1 → nextval 2 + 2 × 9 + 1000 = 1020, so the next event is 1021.
    await client.query("select pgq.force_tick('sd_path')");
    expect(
      (await client.query("select pgq.insert_event('sd_path', 't', 'd') as id")).rows[0]?.id,
    ).toBe('1021');
    await client.query("select pgq.drop_queue('sd_path')");
    expect((await client.query('select count(*)::int as n from decoy.queue')).rows[0]?.n).toBe(0);
    expect(await queueRow('sd_path')).toBeUndefined();
  });
});

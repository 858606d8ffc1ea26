import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  eventSeq,
  eventsBetweenTicks,
  expectPgError,
  inTransaction,
  queueId,
} from './queue-core-helpers.js';

const db = useTestDatabase();

/** A queue that ticks on every pgq.ticker(name) call. */
async function eagerQueue(name: string): Promise<number> {
  await db.query('select pgq.create_queue($1)', [name]);
  await db.query(
    `update pgq.queue set queue_ticker_max_lag = '0', queue_ticker_idle_period = '0'
      where queue_name = $1`,
    [name],
  );
  return queueId(db, name);
}

async function tick(queue: string): Promise<number> {
  const { rows } = await db.query<{ t: string | null }>('select pgq.ticker($1) as t', [queue]);
  const id = rows[0]?.t;
  if (id === null || id === undefined) throw new Error(`no tick made on ${queue}`);
  return Number(id);
}

async function rowCount(queue: string): Promise<number> {
  const id = await queueId(db, queue);
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from pgq.event_${id}`);
  return rows[0]?.n ?? -1;
}

describe('pgq.insert_event', () => {
  it('3- and 7-argument forms insert into the current table; ids come from the queue', async () => {
    const id = await eagerQueue('ie_basic');
    const client = await db.connect();
    const inserted = await inTransaction(client, async (tx) => {
      const { rows } = await tx.query<{ a: string; b: string; c: string; now: Date; txid: string }>(
        `select pgq.insert_event('ie_basic', 'type1', 'data1') as a,
                pgq.insert_event('ie_basic', 'type2', 'data2', 'e1', 'e2', 'e3', 'e4') as b,
                pgq.insert_event('ie_basic', NULL, NULL) as c,
                now() as now, txid_current()::text as txid`,
      );
      return rows[0];
    });
    expect([inserted?.a, inserted?.b, inserted?.c]).toEqual(['1', '2', '3']);

    const { rows } = await db.query(
      `select ev_id::int, ev_time, ev_txid::text, ev_owner, ev_retry, ev_type, ev_data,
              ev_extra1, ev_extra2, ev_extra3, ev_extra4, tableoid::regclass::text as tbl
         from pgq.event_${id} order by ev_id`,
    );
    const common = {
      ev_time: inserted?.now,
      ev_txid: inserted?.txid,
      ev_owner: null,
      ev_retry: null,
      tbl: `pgq.event_${id}_0`,
    };
    expect(rows).toEqual([
      {
        ...common,
        ev_id: 1,
        ev_type: 'type1',
        ev_data: 'data1',
        ev_extra1: null,
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      },
      {
        ...common,
        ev_id: 2,
        ev_type: 'type2',
        ev_data: 'data2',
        ev_extra1: 'e1',
        ev_extra2: 'e2',
        ev_extra3: 'e3',
        ev_extra4: 'e4',
      },
      {
        ...common,
        ev_id: 3,
        ev_type: null,
        ev_data: null,
        ev_extra1: null,
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      },
    ]);
  });

  it('events belong to the producing transaction: the batch after its commit has them', async () => {
    await eagerQueue('ie_batch');
    const t1 = await tick('ie_batch');
    const client = await db.connect();
    await client.query('begin');
    await client.query("select pgq.insert_event('ie_batch', 'a', '1')");
    await client.query("select pgq.insert_event('ie_batch', 'b', '2', 'x', NULL, NULL, 'y')");
    const t2 = await tick('ie_batch'); // taken while the producer is still open
    await client.query("select pgq.insert_event('ie_batch', 'c', '3')");
    await client.query('commit');
    const t3 = await tick('ie_batch');

    expect(await eventsBetweenTicks(db, 'ie_batch', t1, t2)).toEqual([]);
    const batch = await eventsBetweenTicks(db, 'ie_batch', t2, t3);
    expect(batch.map((e) => [e.ev_id, e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra4])).toEqual([
      ['1', 'a', '1', null, null],
      ['2', 'b', '2', 'x', 'y'],
      ['3', 'c', '3', null, null],
    ]);
  });

  it('a rolled-back transaction leaves no events (ids are used up, as with any sequence)', async () => {
    await eagerQueue('ie_rollback');
    const t1 = await tick('ie_rollback');
    const client = await db.connect();
    await client.query('begin');
    await client.query("select pgq.insert_event('ie_rollback', 'gone', '1')");
    await client.query("select pgq.insert_event('ie_rollback', 'gone', '2', 'a', 'b', 'c', 'd')");
    await client.query('rollback');
    const t2 = await tick('ie_rollback');
    expect(await eventsBetweenTicks(db, 'ie_rollback', t1, t2)).toEqual([]);
    expect(await rowCount('ie_rollback')).toBe(0);
    const next = await db.query("select pgq.insert_event('ie_rollback', 'kept', '3') as id");
    expect(next.rows[0]?.id).toBe('3');
  });

  it('keeps payloads exactly: quotes, backslashes, unicode, 10 MB', async () => {
    await eagerQueue('ie_payload');
    const samples = [
      "it's",
      'say "hi"',
      'back\\slash \\n',
      'ünïcödé 名前 🎉',
      '%s %d %I $1',
      "'); drop table victim; --",
      '',
      'x'.repeat(10 * 1024 * 1024),
    ];
    await db.query('create table victim (id int)');
    for (const sample of samples) {
      const { rows } = await db.query<{ id: string }>(
        'select pgq.insert_event($1, $2, $2, $2, $2, $2, $2) as id',
        ['ie_payload', sample],
      );
      const stored = await db.query(
        'select ev_type, ev_data, ev_extra1, ev_extra4 from pgq.event_template where ev_id = $1 and ev_type = $2',
        [rows[0]?.id, sample],
      );
      expect(stored.rows, sample.slice(0, 20)).toEqual([
        { ev_type: sample, ev_data: sample, ev_extra1: sample, ev_extra4: sample },
      ]);
    }
    expect((await db.query('select count(*)::int as n from victim')).rows[0]?.n).toBe(0);
  });

  it('rejects NULL and unknown queue names with upstream texts, inserting nothing', async () => {
    await eagerQueue('ie_errors');
    const seqBefore = await eventSeq(db, 'ie_errors');
    await expectPgError(
      db.query("select pgq.insert_event(NULL, 't', 'd')"),
      'Queue name must not be NULL',
    );
    await expectPgError(
      db.query("select pgq.insert_event(NULL, 't', 'd', NULL, NULL, NULL, NULL)"),
      'Queue name must not be NULL',
    );
    await expectPgError(db.query("select pgq.insert_event('ie_nope', 't', 'd')"), 'No such queue');
    await expectPgError(
      db.query("select pgq.insert_event('IE_ERRORS', 't', 'd')"),
      'No such queue',
    );
    await expectPgError(
      db.query(
        "select pgq.insert_event_raw(NULL, NULL, now(), NULL, NULL, 't', 'd', NULL, NULL, NULL, NULL)",
      ),
      'Queue name must not be NULL',
    );
    await expectPgError(
      db.query(
        "select pgq.insert_event_raw('ie_nope', NULL, now(), NULL, NULL, 't', 'd', NULL, NULL, NULL, NULL)",
      ),
      'No such queue',
    );
    expect(await eventSeq(db, 'ie_errors')).toBe(seqBefore);
    expect(await rowCount('ie_errors')).toBe(0);
  });

  it('gives concurrent producers distinct ids; each event lands in exactly one batch', async () => {
    await eagerQueue('ie_concurrent');
    const a = await db.connect();
    const b = await db.connect();
    const t1 = await tick('ie_concurrent');
    await a.query('begin');
    await b.query('begin');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [ra, rb] = await Promise.all([
        a.query("select pgq.insert_event('ie_concurrent', 'a', $1) as id", [String(i)]),
        b.query("select pgq.insert_event('ie_concurrent', 'b', $1) as id", [String(i)]),
      ]);
      ids.push(ra.rows[0].id, rb.rows[0].id);
    }
    expect(new Set(ids).size).toBe(10);
    // b commits first, then a tick, then a commits (reverse order of start).
    await b.query('commit');
    const t2 = await tick('ie_concurrent');
    await a.query('commit');
    const t3 = await tick('ie_concurrent');

    const first = await eventsBetweenTicks(db, 'ie_concurrent', t1, t2);
    const second = await eventsBetweenTicks(db, 'ie_concurrent', t2, t3);
    expect(first.map((e) => e.ev_type)).toEqual(['b', 'b', 'b', 'b', 'b']);
    expect(second.map((e) => e.ev_type)).toEqual(['a', 'a', 'a', 'a', 'a']);
    expect([...first, ...second].map((e) => e.ev_id).sort()).toEqual([...ids].sort());
  });
});

describe('pgq.insert_event_raw', () => {
  it('keeps a given ev_id but still advances the event sequence', async () => {
    const id = await eagerQueue('raw_ids');
    const before = await eventSeq(db, 'raw_ids');
    const { rows } = await db.query<{ id: string }>(
      `select pgq.insert_event_raw('raw_ids', 777, '2001-02-03 04:05:06+00', 5, 2,
                                   't', 'd', 'e1', 'e2', 'e3', 'e4') as id`,
    );
    expect(rows[0]?.id).toBe('777');
    // A fresh sequence hands out 1 first: its value stays 1 but it is now "called".
    expect(await eventSeq(db, 'raw_ids')).toBe(before);
    const next = await db.query<{ id: string }>(
      "select pgq.insert_event_raw('raw_ids', NULL, NULL, NULL, NULL, 'n', NULL, NULL, NULL, NULL, NULL) as id",
    );
    expect(next.rows[0]?.id).toBe('2');
    expect(await eventSeq(db, 'raw_ids')).toBe(2);
    const stored = await db.query(
      `select ev_id::int, ev_time = '2001-02-03 04:05:06+00' as given_time, ev_owner, ev_retry,
              ev_type, ev_extra3
         from pgq.event_${id} order by ev_id desc`,
    );
    expect(stored.rows).toEqual([
      { ev_id: 777, given_time: true, ev_owner: 5, ev_retry: 2, ev_type: 't', ev_extra3: 'e3' },
      {
        ev_id: 2,
        given_time: false,
        ev_owner: null,
        ev_retry: null,
        ev_type: 'n',
        ev_extra3: null,
      },
    ]);
    // NULL ev_time became the transaction time.
    const time = await db.query(
      `select ev_time <= now() as ok from pgq.event_${id} where ev_id = 2`,
    );
    expect(time.rows[0]?.ok).toBe(true);
  });

  it('writes to the table queue_cur_table names', async () => {
    const id = await eagerQueue('raw_cur');
    await db.query("update pgq.queue set queue_cur_table = 2 where queue_name = 'raw_cur'");
    await db.query("select pgq.insert_event('raw_cur', 't', 'd')");
    const { rows } = await db.query(`select tableoid::regclass::text as tbl from pgq.event_${id}`);
    expect(rows).toEqual([{ tbl: `pgq.event_${id}_2` }]);
  });
});

describe('queue_disable_insert and session_replication_role', () => {
  it('blocks inserts in origin and local roles, allows them in replica role', async () => {
    const id = await eagerQueue('dis_queue');
    await db.query(
      "update pgq.queue set queue_disable_insert = true where queue_name = 'dis_queue'",
    );
    const client = await db.connect();
    for (const role of ['origin', 'local']) {
      await client.query(`set session_replication_role = ${role}`);
      await expectPgError(
        client.query("select pgq.insert_event('dis_queue', 't', 'd')"),
        'Insert into queue disallowed',
      );
      await expectPgError(
        client.query(
          "select pgq.insert_event_raw('dis_queue', 5, now(), NULL, NULL, 't', 'd', NULL, NULL, NULL, NULL)",
        ),
        'Insert into queue disallowed',
      );
      await expectPgError(
        client.query("select pgq.current_event_table('dis_queue')"),
        'Writing to queue disabled',
      );
    }
    expect(await rowCount('dis_queue')).toBe(0);

    await client.query('set session_replication_role = replica');
    const ev = await client.query("select pgq.insert_event('dis_queue', 't', 'd') as id");
    // Refused calls used up ids, as rolled-back ones do; this one took exactly one more.
    const seq = await db.query<{ v: string }>(
      'select pgq.seq_getval(queue_event_seq)::text as v from pgq.queue where queue_id = $1',
      [id],
    );
    expect(ev.rows[0]?.id).toBe(seq.rows[0]?.v);
    const tbl = await client.query("select pgq.current_event_table('dis_queue') as t");
    expect(tbl.rows[0]?.t).toBe(`pgq.event_${id}_0`);
    await client.query('reset session_replication_role');
    expect(await rowCount('dis_queue')).toBe(1);

    // Enabled again: everyone may insert.
    await db.query(
      "update pgq.queue set queue_disable_insert = false where queue_name = 'dis_queue'",
    );
    await client.query("select pgq.insert_event('dis_queue', 't', 'd')");
    expect(await rowCount('dis_queue')).toBe(2);
  });
});

describe('pgq.current_event_table', () => {
  it('names the active table; rows loaded into it appear in the next batch', async () => {
    const id = await eagerQueue('cet_load');
    const t1 = await tick('cet_load');
    const client = await db.connect();
    await inTransaction(client, async (tx) => {
      const { rows } = await tx.query<{ t: string }>(
        "select pgq.current_event_table('cet_load') as t",
      );
      expect(rows[0]?.t).toBe(`pgq.event_${id}_0`);
      // Bulk load as a COPY would: ev_time supplied, ev_id and ev_txid from their defaults.
      await tx.query(
        `insert into ${rows[0]?.t} (ev_time, ev_type, ev_data)
         select now(), 'bulk', g::text from generate_series(1, 100) g`,
      );
      await tx.query("select pgq.insert_event('cet_load', 'single', 'x')");
    });
    const t2 = await tick('cet_load');
    const batch = await eventsBetweenTicks(db, 'cet_load', t1, t2);
    expect(batch.length).toBe(101);
    expect(batch.slice(0, 2).map((e) => [e.ev_id, e.ev_type, e.ev_data])).toEqual([
      ['1', 'bulk', '1'],
      ['2', 'bulk', '2'],
    ]);
    expect(batch[100]).toMatchObject({ ev_id: '101', ev_type: 'single' });
    // The ticker saw the loaded rows through the event sequence.
    const seqs = await db.query<{ s: string }>(
      'select tick_event_seq::text as s from pgq.tick where tick_queue = $1 and tick_id = $2',
      [id, t2],
    );
    expect(seqs.rows[0]?.s).toBe('101');
  });

  it('follows the current table and insists on ev_time', async () => {
    const id = await eagerQueue('cet_rules');
    await db.query("update pgq.queue set queue_cur_table = 1 where queue_name = 'cet_rules'");
    const { rows } = await db.query<{ t: string }>(
      "select pgq.current_event_table('cet_rules') as t",
    );
    expect(rows[0]?.t).toBe(`pgq.event_${id}_1`);
    await expect(
      db.query(`insert into pgq.event_${id}_1 (ev_type) values ('no time')`),
    ).rejects.toMatchObject({ code: '23502' });
  });

  it('reports unknown and NULL queues', async () => {
    await expectPgError(
      db.query("select pgq.current_event_table('cet_nope')"),
      'Event queue not found',
    );
    await expectPgError(db.query('select pgq.current_event_table(NULL)'), 'Event queue not found');
  });
});

describe('data table switches while producing', () => {
  it('a REPEATABLE READ producer writes to the table switched to after its snapshot', async () => {
    const id = await eagerQueue('rr_switch');
    const producer = await db.connect();
    await producer.query('begin isolation level repeatable read');
    await producer.query('select 1'); // takes the transaction snapshot
    // Maintenance switches the data table and commits after the producer's snapshot.
    await db.query("update pgq.queue set queue_cur_table = 1 where queue_name = 'rr_switch'");
    await producer.query("select pgq.insert_event('rr_switch', 't', 'd')");
    // current_event_table reads the queue row: under REPEATABLE READ it cannot see the switch
    // and refuses rather than name a stale table.
    await expect(
      producer.query("select pgq.current_event_table('rr_switch')"),
    ).rejects.toMatchObject({ code: '40001' });
    await producer.query('rollback');
    await producer.query("select pgq.insert_event('rr_switch', 't', 'after')");
    const { rows } = await db.query(
      `select ev_data, tableoid::regclass::text as tbl from pgq.event_${id}`,
    );
    expect(rows).toEqual([{ ev_data: 'after', tbl: `pgq.event_${id}_1` }]);
  });

  it('REPEATABLE READ producer without a concurrent switch inserts normally', async () => {
    const id = await eagerQueue('rr_plain');
    const producer = await db.connect();
    await inTransaction(producer, async (tx) => {
      await tx.query('set transaction isolation level serializable');
      await tx.query("select pgq.insert_event('rr_plain', 't', 'd')");
      const { rows } = await tx.query("select pgq.current_event_table('rr_plain') as t");
      expect(rows[0]?.t).toBe(`pgq.event_${id}_0`);
    });
    expect(await rowCount('rr_plain')).toBe(1);
  });

  it('a producer follows a switch committed before its first event', async () => {
    const id = await eagerQueue('rc_switch');
    const producer = await db.connect();
    await producer.query('begin');
    await producer.query('select 1');
    await db.query("update pgq.queue set queue_cur_table = 1 where queue_name = 'rc_switch'");
    await producer.query("select pgq.insert_event('rc_switch', 'first', 'd')");
    await db.query("update pgq.queue set queue_cur_table = 2 where queue_name = 'rc_switch'");
    // A later event of the same transaction may stay in the table of its first event (readers
    // look in both until rotation step 2, whose txid is larger) or follow the switch.
    await producer.query("select pgq.insert_event('rc_switch', 'second', 'd')");
    await producer.query('commit');
    const { rows } = await db.query<{ ev_type: string; tbl: string }>(
      `select ev_type, tableoid::regclass::text as tbl from pgq.event_${id} order by ev_id`,
    );
    expect(rows[0]).toEqual({ ev_type: 'first', tbl: `pgq.event_${id}_1` });
    expect(rows[1]?.ev_type).toBe('second');
    expect([`pgq.event_${id}_1`, `pgq.event_${id}_2`]).toContain(rows[1]?.tbl);
  });
});

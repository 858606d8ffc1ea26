import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import {
  consume,
  consumeAll,
  insertEvent,
  makeQueue,
  queueRow,
  register,
  tick,
  waitForLockWait,
} from './consumer-helpers.js';
import { usePrivateDatabase } from './private-cluster.js';

// The hot path of pgq.insert_event finds a queue's current table in the generated function
// pgq._insert_slot_<id>(), which the trigger on pgq.queue rewrites with every change of the
// row (see pgq._generate_insert_functions). These tests check that it follows every kind of
// change in time, and that rotation stays correct for transactions that do not see a switch.
// Rotation depends on the xmin of the whole cluster's transactions: a cluster of our own.
const db = usePrivateDatabase();

/** Table number (the N of pgq.event_Q_N) that holds each event data value of the queue. */
async function tableOf(queue: string): Promise<Record<string, string>> {
  const { queue_data_pfx: pfx } = await queueRow(db, queue);
  const { rows } = await db.query<{ t: string; d: string }>(
    `select tableoid::regclass::text as t, ev_data as d from ${pfx as string}`,
  );
  return Object.fromEntries(rows.map((row) => [row.d, row.t.replace(/^pgq\.event_\d+_/, '')]));
}

async function rotatingQueue(queue: string): Promise<void> {
  await makeQueue(db, queue);
  await db.query("update pgq.queue set queue_rotation_period = '0' where queue_name = $1", [queue]);
  await register(db, queue, 'c');
}

/** Every queue's slot function agrees with its row. */
async function expectSlotsMatchRows(): Promise<void> {
  const { rows } = await db.query<{ id: number; name: string; expected: string | null }>(
    `select queue_id as id, queue_name as name,
            case when not queue_disable_insert and queue_per_tx_limit is null
                 then (queue_id::int8 * 65536 + queue_cur_table)::text end as expected
       from pgq.queue`,
  );
  for (const row of rows) {
    const slot = await db.query<{ s: string | null }>(
      `select pgq.${quoteIdent(`_insert_slot_${row.id}`)}()::text as s`,
    );
    expect({ name: row.name, slot: slot.rows[0]?.s }).toEqual({
      name: row.name,
      slot: row.expected,
    });
  }
}

describe("the hot path's slot of a queue", () => {
  it('a transaction open before a switch writes into the new table at its first event', async () => {
    await rotatingQueue('is_open');
    const producer = await db.connect();
    await producer.query('begin');
    await producer.query('select 1');
    await db.query("select pgq.maint_rotate_tables_step1('is_open')");
    await insertEvent(producer, 'is_open', 't', 'late');
    await db.query('select pgq.maint_rotate_tables_step2()');
    await producer.query('commit');
    await tick(db, 'is_open');
    expect(await tableOf('is_open')).toEqual({ late: '1' });
    expect(await consumeAll(db, 'is_open', 'c')).toEqual([['late']]);
  });

  it('every event of a transaction that spans a switch is delivered once', async () => {
    await rotatingQueue('is_span');
    const producer = await db.connect();
    await producer.query('begin');
    for (const data of ['a1', 'a2']) await insertEvent(producer, 'is_span', 't', data);
    await db.query("select pgq.maint_rotate_tables_step1('is_span')");
    expect((await queueRow(db, 'is_span')).queue_cur_table).toBe(1);
    // a3 may stay in table 0, where the transaction began, or follow the switch.
    await insertEvent(producer, 'is_span', 't', 'a3');
    await producer.query('commit');
    await insertEvent(producer, 'is_span', 't', 'b1');
    await db.query('select pgq.maint_rotate_tables_step2()');
    await tick(db, 'is_span');
    const tables = await tableOf('is_span');
    expect(tables).toMatchObject({ a1: '0', a2: '0', b1: '1' });
    expect(['0', '1']).toContain(tables.a3);
    expect((await consumeAll(db, 'is_span', 'c')).flat().sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
  });

  it('step 2 waits for a step 1 that has not committed yet', async () => {
    await rotatingQueue('is_wait');
    const first = await db.connect();
    const second = await db.connect();
    await first.query('begin');
    await first.query("select pgq.maint_rotate_tables_step1('is_wait')");
    const pid = (await second.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]
      ?.pid as number;
    const step2 = second.query('select pgq.maint_rotate_tables_step2()');
    await waitForLockWait(db, pid);
    const step1Txid = (await first.query<{ t: string }>('select txid_current()::text as t')).rows[0]
      ?.t;
    await first.query('commit');
    await step2;
    const row = await queueRow(db, 'is_wait');
    expect(row.queue_cur_table).toBe(1);
    expect(BigInt(row.queue_switch_step2 as string)).toBeGreaterThan(BigInt(step1Txid ?? '0'));
  });

  it('follows changes made in replica role, by pgq functions and by plain UPDATEs', async () => {
    await makeQueue(db, 'is_changes');
    const admin = await db.connect();
    await admin.query('set session_replication_role = replica');
    await admin.query("update pgq.queue set queue_cur_table = 2 where queue_name = 'is_changes'");
    await insertEvent(db, 'is_changes', 't', 'in 2');
    await admin.query("select pgq.set_queue_config('is_changes', 'rotation_period', '1 hour')");
    await admin.query('reset session_replication_role');
    await admin.query(
      "update pgq.queue set queue_disable_insert = true where queue_name = 'is_changes'",
    );
    await expectSlotsMatchRows();
    await expect(insertEvent(db, 'is_changes', 't', 'refused')).rejects.toThrow(
      'Insert into queue disallowed',
    );
    await admin.query(
      "update pgq.queue set queue_disable_insert = false, queue_cur_table = 0 where queue_name = 'is_changes'",
    );
    await insertEvent(db, 'is_changes', 't', 'in 0');
    expect(await tableOf('is_changes')).toEqual({ 'in 2': '2', 'in 0': '0' });
    await expectSlotsMatchRows();
  });

  it('sends each event to its own queue when a transaction alternates queues', async () => {
    const names = [
      'is_a',
      'is_b',
      'is|pipe',
      '',
      'is_a ',
      'ís_ü',
      "is'q",
      '%ID%',
      '%VALUES% $$ $def$',
    ];
    for (const name of names) await makeQueue(db, name);
    const client = await db.connect();
    await client.query('begin');
    for (let round = 0; round < 3; round++) {
      for (const name of names) await insertEvent(client, name, 't', `${name}#${round}`);
    }
    await client.query('commit');
    for (const name of names) {
      expect(Object.keys(await tableOf(name)).sort()).toEqual([0, 1, 2].map((r) => `${name}#${r}`));
    }
    await expectSlotsMatchRows();
  });

  it('a queue row deleted behind pgq leaves the other queues working', async () => {
    await makeQueue(db, 'is_gone');
    await makeQueue(db, 'is_kept');
    const client = await db.connect();
    await client.query('begin');
    await client.query(
      "delete from pgq.tick where tick_queue = (select queue_id from pgq.queue where queue_name = 'is_gone')",
    );
    await client.query("delete from pgq.queue where queue_name = 'is_gone'");
    await insertEvent(client, 'is_kept', 't', 'kept');
    await client.query('savepoint s');
    await expect(insertEvent(client, 'is_gone', 't', 'x')).rejects.toThrow('No such queue');
    await client.query('rollback');
    await expectSlotsMatchRows();
  });

  it('producers that keep transactions open over many fast rotations lose no event', async () => {
    await rotatingQueue('is_load');
    const producers = await Promise.all([0, 1, 2, 3].map(() => db.connect()));
    const [maint, stepTwo, reader] = [await db.connect(), await db.connect(), await db.connect()];
    const committed: string[] = [];
    const delivered: string[] = [];
    let producing = true;
    let rotations = 0;
    const produce = async (client: pg.Client, n: number) => {
      for (let t = 0; t < 60; t++) {
        await client.query('begin');
        const mine: string[] = [];
        for (let e = 0; e < 1 + (t % 4); e++) {
          if (e > 0) await new Promise((resolve) => setTimeout(resolve, 1 + ((t + n) % 3)));
          mine.push(`p${n}t${t}e${e}`);
          await insertEvent(client, 'is_load', 't', mine[mine.length - 1] as string);
        }
        if (t % 7 === n) await client.query('rollback');
        else {
          await client.query('commit');
          committed.push(...mine);
        }
      }
    };
    // Step 1 and step 2 from different sessions, as two maintenance runs could.
    const rotateAndRead = async () => {
      while (producing) {
        await tick(maint, 'is_load');
        for (;;) {
          const batch = await consume(reader, 'is_load', 'c');
          if (batch === null) break;
          delivered.push(...batch);
        }
        const before = (await queueRow(maint, 'is_load')).queue_cur_table;
        await maint.query("select pgq.maint_rotate_tables_step1('is_load')");
        await stepTwo.query('select pgq.maint_rotate_tables_step2()');
        if ((await queueRow(maint, 'is_load')).queue_cur_table !== before) rotations++;
      }
    };
    const background = rotateAndRead();
    try {
      await Promise.all(producers.map((client, n) => produce(client, n)));
    } finally {
      producing = false;
      await background;
    }
    await tick(db, 'is_load');
    delivered.push(...(await consumeAll(db, 'is_load', 'c')).flat());
    expect(rotations).toBeGreaterThanOrEqual(3);
    expect(delivered.sort()).toEqual(committed.sort());
  });

  it('follows a queue dropped and created again in the same transaction', async () => {
    await makeQueue(db, 'is_again');
    const client: pg.Client = await db.connect();
    await client.query('begin');
    await insertEvent(client, 'is_again', 't', 'old queue');
    await client.query("select pgq.drop_queue('is_again', true)");
    await client.query("select pgq.create_queue('is_again')");
    await insertEvent(client, 'is_again', 't', 'new queue');
    await client.query('commit');
    expect(await tableOf('is_again')).toEqual({ 'new queue': '0' });
    const { rows } = await db.query<{ n: string }>(
      "select count(*)::text as n from pg_proc where proname ~ '^_insert_slot_[0-9]+$'",
    );
    const queues = await db.query<{ n: string }>('select count(*)::text as n from pgq.queue');
    expect(rows[0]?.n).toBe(queues.rows[0]?.n);
  });
});

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/queryable.js';
import { quoteIdent } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';
import { expectPgError, inTransaction, queueId } from './queue-core-helpers.js';

// pgq.insert_event and pgq.insert_event_raw are generated with a static INSERT per queue table
// (pgq._generate_insert_functions); insert-slot.test.ts checks how they find the current one. These tests check that the generated code follows queues
// as they come and go, puts every event where the general path would, and cannot be hijacked
// through the caller's search_path although the SECURITY DEFINER function does not pin it.
const db = useTestDatabase();

const writer = `${db.name}_writer`;
const evil = `${db.name}_evil`;

beforeAll(async () => {
  await db.query(`create role ${quoteIdent(writer)} login in role pgq_writer`);
});
afterAll(async () => {
  await db.query(`drop owned by ${quoteIdent(writer)}`);
  await db.query(`drop role ${quoteIdent(writer)}`);
});

async function generatedSource(fn: 'insert_event' | 'insert_event_raw'): Promise<string> {
  const { rows } = await db.query<{ src: string }>(
    `select prosrc as src from pg_proc
      where pronamespace = 'pgq'::regnamespace and proname = $1 and pronargs > 3`,
    [fn],
  );
  return rows[0]?.src ?? '';
}

interface Landed {
  tableoid: string;
  ev_id: string;
  ev_type: string;
  ev_data: string;
  ev_extra1: string | null;
  ev_extra4: string | null;
  ev_owner: number | null;
  ev_retry: number | null;
  txid_ok: boolean;
}

/** Where event `id` of `queue` is stored, and what it holds. */
async function landed(queue: string, id: string): Promise<Landed | undefined> {
  const qid = await queueId(db, queue);
  const { rows } = await db.query<Landed>(
    `select tableoid::regclass::text as tableoid, ev_id, ev_type, ev_data, ev_extra1, ev_extra4,
            ev_owner, ev_retry, ev_txid > 0 as txid_ok
       from ${quoteIdent('pgq')}.${quoteIdent(`event_${qid}`)} where ev_id = $1`,
    [id],
  );
  return rows[0];
}

async function insertEvent(client: Queryable, queue: string, data = 'd') {
  const { rows } = await client.query<{ id: string }>('select pgq.insert_event($1, $2, $3) as id', [
    queue,
    'type',
    data,
  ]);
  return rows[0]?.id ?? '';
}

describe('generated insert functions', () => {
  it('know every queue once created, and forget it once dropped', async () => {
    await db.query("select pgq.create_queue('hp_come_go')");
    const qid = await queueId(db, 'hp_come_go');
    for (const fn of ['insert_event', 'insert_event_raw'] as const) {
      const src = await generatedSource(fn);
      for (const n of [0, 1, 2]) expect(src).toContain(`pgq.event_${qid}_${n} (`);
    }
    await db.query("select pgq.drop_queue('hp_come_go')");
    expect(await generatedSource('insert_event')).not.toContain(`pgq.event_${qid}_`);
  });

  it('the 3-argument form is inlined into the caller: no call of its own', async () => {
    await db.query("select pgq.create_queue('hp_inline')");
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(
      "explain (verbose, costs off) select pgq.insert_event('hp_inline', 't', 'd')",
    );
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toContain("insert_event('hp_inline'::text, 't'::text, 'd'::text, NULL::text");
  });

  it('put events of 40 queues each into its queue, through every data table', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `hp_many_${i}`);
    for (const name of names) await db.query('select pgq.create_queue($1)', [name]);
    for (let round = 0; round < 3; round++) {
      for (const [i, name] of names.entries()) {
        const id = await insertEvent(db, name, `${name}:${round}`);
        const row = await landed(name, id);
        const qid = await queueId(db, name);
        expect(row?.tableoid).toBe(`pgq.event_${qid}_${round}`);
        expect(row?.ev_data).toBe(`${name}:${round}`);
        if (i === 0) expect(row?.txid_ok).toBe(true);
      }
      // Move every queue to its next table, as rotation step 1 does.
      await db.query(
        `update pgq.queue set queue_cur_table = (queue_cur_table + 1) % queue_ntables
          where queue_name like 'hp\\_many\\_%'`,
      );
    }
  });

  it('take the hot path in every isolation level', async () => {
    await db.query("select pgq.create_queue('hp_which_path')");
    const client = await db.connect();
    // Calls of the general function made by this transaction so far.
    const generalCalls = async (tx: pg.ClientBase) => {
      const { rows } = await tx.query<{ n: string | null }>(
        `select pg_stat_get_xact_function_calls(p.oid) as n from pg_proc p
          where p.pronamespace = 'pgq'::regnamespace and p.proname = '_insert_event_general'`,
      );
      return Number(rows[0]?.n ?? 0);
    };
    for (const isolation of ['read committed', 'repeatable read', 'serializable']) {
      await client.query(`begin isolation level ${isolation}`);
      await client.query("set local track_functions = 'pl'");
      for (let i = 0; i < 5; i++) await insertEvent(client, 'hp_which_path');
      await client.query(
        "select pgq.insert_event_raw('hp_which_path', null, null, null, null, 't', 'd', null, null, null, null)",
      );
      expect(await generalCalls(client)).toBe(0);
      await client.query('commit');
    }
  });

  it('insert_event_raw keeps owner, retry, time and an explicit id (which still uses nextval)', async () => {
    await db.query("select pgq.create_queue('hp_raw')");
    const { rows } = await db.query<{ a: string; b: string; seq: string }>(
      `select pgq.insert_event_raw('hp_raw', null, null, 7, 2, 't', 'x', 'e1', null, null, 'e4') as a,
              pgq.insert_event_raw('hp_raw', 424242, '2020-01-01', null, null, 't', 'y',
                                   null, null, null, null) as b,
              pgq.seq_getval(queue_event_seq) as seq
         from pgq.queue where queue_name = 'hp_raw'`,
    );
    const row = rows[0];
    expect(row?.b).toBe('424242');
    expect(Number(row?.seq)).toBe(Number(row?.a) + 1);
    const first = await landed('hp_raw', row?.a ?? '');
    expect(first).toMatchObject({ ev_owner: 7, ev_retry: 2, ev_extra1: 'e1', ev_extra4: 'e4' });
    const { rows: times } = await db.query<{ t: string }>(
      `select ev_time::date::text as t from pgq.event_${await queueId(db, 'hp_raw')}
        where ev_id = 424242`,
    );
    expect(times[0]?.t).toBe('2020-01-01');
  });

  it('still work for a queue the generated code does not know (general path)', async () => {
    await db.query("select pgq.create_queue('hp_known')");
    const before = await db.query<{ def: string }>(
      `select pg_get_functiondef(p.oid) as def from pg_proc p
        where p.pronamespace = 'pgq'::regnamespace and p.proname = 'insert_event'
          and p.pronargs = 7`,
    );
    await db.query("select pgq.create_queue('hp_unknown')");
    // Put back the code from before hp_unknown existed, as a session may still run it.
    await db.query(before.rows[0]?.def ?? '');
    expect(await generatedSource('insert_event')).not.toContain(
      `event_${await queueId(db, 'hp_unknown')}_0`,
    );
    const id = await insertEvent(db, 'hp_unknown', 'via general path');
    expect((await landed('hp_unknown', id))?.ev_data).toBe('via general path');
    await db.query('select pgq._generate_insert_functions()');
  });

  it('concurrent create_queue calls all end up in the generated code', async () => {
    const clients = await Promise.all([db.connect(), db.connect(), db.connect()]);
    await Promise.all(
      clients.map((client, i) =>
        inTransaction(client, async (tx) => {
          await tx.query('select pgq.create_queue($1)', [`hp_conc_${i}`]);
          await tx.query('select pg_sleep(0.05)');
        }),
      ),
    );
    const src = await generatedSource('insert_event');
    for (let i = 0; i < 3; i++) {
      expect(src).toContain(`pgq.event_${await queueId(db, `hp_conc_${i}`)}_0 (`);
    }
    await Promise.all(clients.map((client) => client.end()));
  });

  it('a hostile search_path cannot hijack the SECURITY DEFINER insert_event', async () => {
    await db.query("select pgq.create_queue('hp_hostile')");
    const admin = await db.connect();
    // Operators, a function and a type that shadow pg_catalog's for a caller that puts its own
    // schema first; each one raises if the definer's code ever resolves to it.
    await admin.query(`
      create schema ${quoteIdent(evil)};
      grant usage on schema ${quoteIdent(evil)} to public;
      create function ${quoteIdent(evil)}.trap(text, text) returns boolean language plpgsql
        as $$ begin raise exception 'hijacked'; end $$;
      create function ${quoteIdent(evil)}.trapi(integer, integer) returns boolean
        language plpgsql as $$ begin raise exception 'hijacked'; end $$;
      create function ${quoteIdent(evil)}.now() returns timestamptz language plpgsql
        as $$ begin raise exception 'hijacked'; end $$;
      create operator ${quoteIdent(evil)}.= (leftarg = text, rightarg = text, function = ${quoteIdent(evil)}.trap);
      create operator ${quoteIdent(evil)}.= (leftarg = integer, rightarg = integer, function = ${quoteIdent(evil)}.trapi);
      create operator ${quoteIdent(evil)}.< (leftarg = integer, rightarg = integer, function = ${quoteIdent(evil)}.trapi);
      create domain ${quoteIdent(evil)}.int8 as pg_catalog.text check (false);
    `);
    await admin.end();
    const client = await db.connect({ user: writer });
    await client.query(`set search_path = ${quoteIdent(evil)}, pg_catalog, public`);
    const id = await insertEvent(client, 'hp_hostile', 'safe');
    await client.end();
    expect((await landed('hp_hostile', id))?.ev_data).toBe('safe');
    await db.query(`drop schema ${quoteIdent(evil)} cascade`);
  });

  it('report the general path errors unchanged', async () => {
    await db.query("select pgq.create_queue('hp_errors')");
    await expectPgError(insertEvent(db, 'hp_no_such_queue'), 'No such queue');
    await db.query(
      "update pgq.queue set queue_disable_insert = true where queue_name = 'hp_errors'",
    );
    await expectPgError(insertEvent(db, 'hp_errors'), 'Insert into queue disallowed');
  });
});

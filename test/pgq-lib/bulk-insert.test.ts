import { describe, expect, it } from 'vitest';
import { bulkInsertEvents } from '../../src/pgq/bulk-insert.js';
import { copyField } from '../../src/pgq/copy-text.js';
import type { EventInput } from '../../src/pgq/event-input.js';
import { expectPgError } from '../harness/assertions.js';
import { useTestDatabase } from '../harness/database.js';
import { consumeAllSql, makeQueue, register, tick } from './helpers.js';

const db = useTestDatabase();

// Everything COPY's text format treats specially, and text around it.
const nasty = [
  'tab\there',
  'new\nline',
  'cr\rlf\r\n',
  'back\\slash \\N \\\\ \\t',
  '\\',
  '\\N',
  'ünïcödé 名前 😀 \u2028 \u00a0',
  'quote\' "double" ,comma; {brace}',
  '',
  ' leading and trailing ',
  '\b\f\v\u0001\u001f',
  'x'.repeat(3000),
];

function nastyEvent(i: number): EventInput {
  const pick = (k: number) => nasty[(i + k) % nasty.length] as string;
  return {
    type: i % 7 === 0 ? null : `type.${pick(1)}`,
    data: `${i}:${pick(0)}`,
    extra1: i % 3 === 0 ? null : pick(2),
    extra2: pick(3),
    extra3: i % 5 === 0 ? null : pick(4),
    extra4: i % 11 === 0 ? '' : pick(5),
  };
}

describe('copyField', () => {
  it('escapes exactly the characters COPY text treats specially', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField('plain ünï')).toBe('plain ünï');
  });
});

describe('bulkInsertEvents', () => {
  it('round-trips 10k events with nasty payloads byte for byte, ids from the sequence', async () => {
    await makeQueue(db, 'bulk');
    await register(db, 'bulk', 'c');
    const client = await db.connect();
    const sent = Array.from({ length: 10_000 }, (_, i) => nastyEvent(i));
    await client.query('begin');
    const count = await bulkInsertEvents(client, 'bulk', sent, { raw: true });
    const { rows } = await client.query('select txid_current() as txid');
    await client.query('commit');
    expect(count).toBe(10_000);
    await tick(db, 'bulk');
    const events = await consumeAllSql(db, 'bulk', 'c');
    expect(events).toHaveLength(10_000);
    const byData = new Map(events.map((e) => [e.ev_data, e]));
    const mismatches = sent.filter((event) => {
      const got = byData.get(event.data as string);
      return (
        got === undefined ||
        got.ev_type !== event.type ||
        got.ev_extra1 !== event.extra1 ||
        got.ev_extra2 !== event.extra2 ||
        got.ev_extra3 !== event.extra3 ||
        got.ev_extra4 !== event.extra4 ||
        got.ev_txid !== rows[0].txid
      );
    });
    expect(mismatches).toEqual([]);
    // The ids are the event sequence's, distinct and consecutive like insert_event's.
    const ids = events.map((e) => Number(e.ev_id)).sort((a, b) => a - b);
    expect(new Set(ids).size).toBe(10_000);
    expect((ids.at(-1) as number) - (ids[0] as number)).toBe(9_999);
    const seq = await db.query(
      `select pgq.seq_getval(queue_event_seq) as v from pgq.queue where queue_name = 'bulk'`,
    );
    expect(Number(seq.rows[0]?.v)).toBeGreaterThanOrEqual(ids.at(-1) as number);
  });

  it('concurrent bulk inserts and single inserts: every event once, ids unique', async () => {
    await makeQueue(db, 'many');
    await register(db, 'many', 'c');
    const clients = await Promise.all([0, 1, 2, 3].map(() => db.connect()));
    await Promise.all(
      clients.map(async (client, k) => {
        await client.query('begin');
        await bulkInsertEvents(
          client,
          'many',
          Array.from({ length: 2000 }, (_, i) => ({ type: 'b', data: `${k}:${i}` })),
          { raw: true },
        );
        await client.query(
          `select pgq.insert_event('many', 's', $1 || ':' || i) from generate_series(0, 99) i`,
          [`single${k}`],
        );
        await client.query('commit');
      }),
    );
    await tick(db, 'many');
    const events = await consumeAllSql(db, 'many', 'c');
    expect(events).toHaveLength(4 * 2100);
    expect(new Set(events.map((e) => e.ev_id)).size).toBe(4 * 2100);
    expect(new Set(events.map((e) => e.ev_data)).size).toBe(4 * 2100);
  });

  it('encodes JSON by default and reads an async source', async () => {
    await makeQueue(db, 'json');
    await register(db, 'json', 'c');
    const client = await db.connect();
    async function* source() {
      for (let i = 0; i < 500; i++) yield { type: 'j', data: { i, text: nasty[i % nasty.length] } };
    }
    expect(await bulkInsertEvents(client, 'json', source())).toBe(500);
    await tick(db, 'json');
    const events = await consumeAllSql(db, 'json', 'c');
    expect(events.map((e) => JSON.parse(e.ev_data ?? '')).sort((a, b) => a.i - b.i)).toEqual(
      Array.from({ length: 500 }, (_, i) => ({ i, text: nasty[i % nasty.length] })),
    );
  });

  it('rolls back with the caller transaction', async () => {
    await makeQueue(db, 'rb');
    await register(db, 'rb', 'c');
    const client = await db.connect();
    await client.query('begin');
    await bulkInsertEvents(client, 'rb', [{ type: 'a', data: 1 }]);
    await client.query('rollback');
    await tick(db, 'rb');
    expect(await consumeAllSql(db, 'rb', 'c')).toEqual([]);
  });

  it('on a bad event writes nothing and keeps the caller transaction usable', async () => {
    await makeQueue(db, 'badbulk');
    await register(db, 'badbulk', 'c');
    const client = await db.connect();
    await client.query('begin');
    await bulkInsertEvents(client, 'badbulk', [{ type: 'before', data: 0 }]);
    const events: EventInput[] = Array.from({ length: 5000 }, (_, i) => ({ type: 'x', data: i }));
    events.push({ type: 'x', data: 'nul \u0000 here' }, { type: 'after', data: 1 });
    await expect(bulkInsertEvents(client, 'badbulk', events, { raw: false })).resolves.toBe(5002);
    await expect(
      bulkInsertEvents(
        client,
        'badbulk',
        [...events.slice(0, 5001), { type: 'x', data: 'a\u0000b' }],
        {
          raw: true,
        },
      ),
    ).rejects.toMatchObject({
      code: 'BAD_EVENT',
      message: 'raw event data must be a string or null, got number',
    });
    await expect(
      bulkInsertEvents(
        client,
        'badbulk',
        [
          { type: 'x', data: 'a' },
          { type: 'x', data: 'a\u0000b' },
        ],
        {
          raw: true,
        },
      ),
    ).rejects.toMatchObject({
      code: 'BAD_EVENT',
      message: 'event text contains a NUL character (\\u0000) (queue badbulk)',
      context: { queue: 'badbulk' },
    });
    await client.query('commit');
    await tick(db, 'badbulk');
    const got = await consumeAllSql(db, 'badbulk', 'c');
    // The first call and the JSON call (NUL is escaped inside JSON) remain; the failed ones left nothing.
    expect(got).toHaveLength(1 + 5002);
    expect(got.filter((e) => e.ev_data === 'a')).toHaveLength(0);
  });

  it('survives a server error in the middle of the COPY, leaving nothing behind', async () => {
    await makeQueue(db, 'boom');
    await register(db, 'boom', 'c');
    const { rows } = await db.query(`select pgq.current_event_table('boom') as t`);
    await db.query(`create function boom() returns trigger language plpgsql as $$
      begin if new.ev_data = 'boom' then raise exception 'boom at %', new.ev_id; end if;
      return new; end $$`);
    await db.query(
      `create trigger boom before insert on ${rows[0]?.t} for each row execute function boom()`,
    );
    const client = await db.connect();
    const events: EventInput[] = Array.from({ length: 20_000 }, (_, i) => ({
      type: 'x',
      data: i === 15_000 ? 'boom' : `event ${i} ${'y'.repeat(50)}`,
    }));
    await client.query('begin');
    await bulkInsertEvents(client, 'boom', [{ type: 'kept', data: 'k' }], { raw: true });
    await expect(bulkInsertEvents(client, 'boom', events, { raw: true })).rejects.toMatchObject({
      message: expect.stringMatching(/^boom at \d+$/),
    });
    await client.query('commit');
    await tick(db, 'boom');
    const got = await consumeAllSql(db, 'boom', 'c');
    expect(got.map((e) => e.ev_data)).toEqual(['k']);
  });

  it('runs in a transaction of its own on an idle client; unknown queue is refused', async () => {
    await makeQueue(db, 'own');
    await register(db, 'own', 'c');
    const client = await db.connect();
    expect(await bulkInsertEvents(client, 'own', [{ type: 'a', data: 'x' }])).toBe(1);
    expect(client.getTransactionStatus()).toBe('I');
    await expectPgError(
      bulkInsertEvents(client, 'nope', [{ type: 'a', data: 1 }]),
      'Event queue not found',
    );
    expect(client.getTransactionStatus()).toBe('I');
    await tick(db, 'own');
    expect(await consumeAllSql(db, 'own', 'c')).toHaveLength(1);
  });

  it('refuses a client whose transaction has failed', async () => {
    const client = await db.connect();
    await client.query('begin');
    await client.query('select 1/0').catch(() => {});
    await expect(bulkInsertEvents(client, 'own', [])).rejects.toMatchObject({
      code: 'TRANSACTION_ABORTED',
    });
    await client.query('rollback');
  });

  it('follows a table switch: events land in the table current for the transaction', async () => {
    await makeQueue(db, 'rot');
    await register(db, 'rot', 'c');
    await db.query(`update pgq.queue set queue_rotation_period = '0' where queue_name = 'rot'`);
    const client = await db.connect();
    for (let round = 0; round < 4; round++) {
      await bulkInsertEvents(client, 'rot', [{ type: 'r', data: round }]);
      await tick(db, 'rot');
      await db.query('select pgq.maint_rotate_tables_step1($1)', ['rot']);
      await db.query('select pgq.maint_rotate_tables_step2()');
      const got = await consumeAllSql(db, 'rot', 'c');
      expect(got.map((e) => e.ev_data)).toEqual([String(round)]);
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';
import { expectPgError, makeQueue, nextBatch, register, tick } from './consumer-helpers.js';

const db = useTestDatabase();

const columns = [
  'ev_id',
  'ev_time',
  'ev_txid',
  'ev_retry',
  'ev_type',
  'ev_data',
  'ev_extra1',
  'ev_extra2',
  'ev_extra3',
  'ev_extra4',
];

let batchId: number;

beforeAll(async () => {
  await makeQueue(db, 'cursor_q');
  await register(db, 'cursor_q', 'c');
  for (let i = 1; i <= 10; i++) {
    await db.query("select pgq.insert_event('cursor_q', $1, $2, $3, 'x2', null, null)", [
      i % 2 ? 'odd' : 'even',
      `d${i}`,
      i <= 5 ? 'public.low' : 'public.high',
    ]);
  }
  await tick(db, 'cursor_q');
  batchId = (await nextBatch(db, 'cursor_q', 'c')) as number;
});

describe('pgq.get_batch_cursor', () => {
  it('returns the first rows at once and the rest by FETCH', async () => {
    const client = await db.connect();
    try {
      await client.query('begin');
      const quick = await client.query('select * from pgq.get_batch_cursor($1, $2, $3)', [
        batchId,
        'batch_walk',
        3,
      ]);
      expect(quick.fields.map((field) => field.name)).toEqual(columns);
      expect(quick.rows.map((row) => row.ev_data)).toEqual(['d1', 'd2', 'd3']);
      expect(quick.rows[0]).toMatchObject({
        ev_id: '1',
        ev_retry: null,
        ev_type: 'odd',
        ev_extra1: 'public.low',
        ev_extra2: 'x2',
        ev_extra3: null,
        ev_extra4: null,
      });
      const rest = await client.query('fetch 4 from batch_walk');
      expect(rest.rows.map((row) => row.ev_data)).toEqual(['d4', 'd5', 'd6', 'd7']);
      const tail = await client.query('fetch 100 from batch_walk');
      expect(tail.rows.map((row) => row.ev_data)).toEqual(['d8', 'd9', 'd10']);
      // NO SCROLL: going back is refused.
      await expect(client.query('fetch prior from batch_walk')).rejects.toThrow(
        /cursor can only scan forward/,
      );
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });

  it('a quick limit of 0 or less returns nothing but declares the cursor', async () => {
    const client = await db.connect();
    try {
      await client.query('begin');
      for (const [limit, name] of [
        [0, 'zero'],
        [-5, 'negative'],
      ] as const) {
        const quick = await client.query('select * from pgq.get_batch_cursor($1, $2, $3)', [
          batchId,
          name,
          limit,
        ]);
        expect(quick.rows).toEqual([]);
        const all = await client.query(`fetch all from ${name}`);
        expect(all.rows).toHaveLength(10);
        await client.query(`close ${name}`);
      }
      await client.query('commit');
    } finally {
      await client.end();
    }
  });

  it('extra_where filters the events, raw SQL over the event columns', async () => {
    const client = await db.connect();
    try {
      await client.query('begin');
      const quick = await client.query('select * from pgq.get_batch_cursor($1, $2, $3, $4)', [
        batchId,
        'filtered',
        2,
        "ev_extra1 in ('public.high') and ev_type = 'even'",
      ]);
      expect(quick.rows.map((row) => row.ev_data)).toEqual(['d6', 'd8']);
      const rest = await client.query('fetch all from filtered');
      expect(rest.rows.map((row) => row.ev_data)).toEqual(['d10']);
      await client.query('close filtered');
      // An OR at the top level stays within the filter.
      const either = await client.query('select * from pgq.get_batch_cursor($1, $2, $3, $4)', [
        batchId,
        'either',
        100,
        "ev_data = 'd1' or ev_data = 'd9'",
      ]);
      expect(either.rows.map((row) => row.ev_data)).toEqual(['d1', 'd9']);
      // NULL filter: everything.
      const all = await client.query('select * from pgq.get_batch_cursor($1, $2, $3, null)', [
        batchId,
        'unfiltered',
        100,
      ]);
      expect(all.rows).toHaveLength(10);
      await client.query('commit');
    } finally {
      await client.end();
    }
  });

  it('hostile cursor names work', async () => {
    const client = await db.connect();
    try {
      await client.query('begin');
      for (const name of ['Mixed Case', 'quo"te', 'ünï', "x'; drop table pgq.queue; --"]) {
        const quick = await client.query('select * from pgq.get_batch_cursor($1, $2, $3)', [
          batchId,
          name,
          1,
        ]);
        expect(quick.rows).toHaveLength(1);
        const rest = await client.query(`fetch all from ${quoteIdent(name)}`);
        expect(rest.rows).toHaveLength(9);
        await client.query(`close ${quoteIdent(name)}`);
      }
      await client.query('commit');
    } finally {
      await client.end();
    }
    const { rows } = await db.query(
      "select count(*)::int as n from pgq.queue where queue_name = 'cursor_q'",
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('the cursor lives only inside the transaction', async () => {
    const client = await db.connect();
    try {
      const quick = await client.query('select * from pgq.get_batch_cursor($1, $2, $3)', [
        batchId,
        'autocommit',
        2,
      ]);
      expect(quick.rows).toHaveLength(2);
      await expectPgError(
        client.query('fetch all from autocommit'),
        'cursor "autocommit" does not exist',
        '34000',
      );
    } finally {
      await client.end();
    }
  });

  it('NULL arguments give an empty result and no cursor', async () => {
    const client = await db.connect();
    try {
      await client.query('begin');
      const cases: [number | null, string | null, number | null][] = [
        [null, 'n1', 5],
        [batchId, null, 5],
        [batchId, 'n3', null],
      ];
      for (const [batch, name, limit] of cases) {
        const three = await client.query('select * from pgq.get_batch_cursor($1, $2, $3)', [
          batch,
          name,
          limit,
        ]);
        expect(three.rows).toEqual([]);
        const four = await client.query("select * from pgq.get_batch_cursor($1, $2, $3, 'true')", [
          batch,
          name,
          limit,
        ]);
        expect(four.rows).toEqual([]);
      }
      const open = await client.query('select name from pg_cursors');
      expect(open.rows).toEqual([]);
      await client.query('commit');
    } finally {
      await client.end();
    }
  });

  it('unknown batches are reported', async () => {
    const client = await db.connect();
    try {
      await client.query('begin');
      await expectPgError(
        client.query("select * from pgq.get_batch_cursor(987654, 'x', 10)"),
        'batch not found',
      );
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });
});

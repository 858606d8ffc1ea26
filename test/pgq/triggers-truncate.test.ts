/**
 * TRUNCATE statement triggers: `R` (logutriga, sqltriga) or a JSON TRUNCATE event
 * (jsontriga); `deny` blocks the truncate; row-only arguments are refused.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createTrigger, events, expectPgError, newQueue, tableRows } from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
});

let tables = 0;

/** A table with one row and a fresh queue. */
async function table(columns = '(id int primary key, v text)') {
  tables += 1;
  const name = `tr_${tables}`;
  await client.query(`create table ${name} ${columns}; insert into ${name} values (1, 'a')`);
  return { name, queue: await newQueue(client) };
}

const truncateTrigger = { on: 'TRUNCATE', level: 'STATEMENT' } as const;

describe('truncate triggers', () => {
  it('queue one event per truncated table, in each format', async () => {
    const t = await table('(id int, v text, a int default 0, primary key (a, id))');
    for (const fn of ['jsontriga', 'logutriga', 'sqltriga'] as const) {
      await client.query(createTrigger(fn, t.name, [t.queue], { ...truncateTrigger, name: fn }));
    }
    await client.query(`truncate ${t.name}`);
    expect(await events(client, t.queue)).toEqual([
      {
        ev_type: `{"op":"TRUNCATE","table":["public","${t.name}"],"pkey":["a","id"]}`,
        ev_data: '{}',
        ev_extra1: `public.${t.name}`,
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      },
      {
        ev_type: 'R',
        ev_data: '',
        ev_extra1: `public.${t.name}`,
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      },
      {
        ev_type: 'R',
        ev_data: '',
        ev_extra1: `public.${t.name}`,
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      },
    ]);
    expect(await tableRows(client, t.name)).toEqual([]);
  });

  it('fire for each table of a multi-table truncate, inside its transaction', async () => {
    const a = await table();
    const b = await table();
    await client.query(createTrigger('sqltriga', a.name, [a.queue], truncateTrigger));
    await client.query(createTrigger('sqltriga', b.name, [a.queue], truncateTrigger));
    await client.query('begin');
    await client.query(`truncate ${a.name}, ${b.name}`);
    await client.query('rollback');
    expect(await events(client, a.queue)).toEqual([]);
    await client.query(`truncate ${a.name}, ${b.name}`);
    expect((await events(client, a.queue)).map((ev) => [ev.ev_type, ev.ev_extra1])).toEqual([
      ['R', `public.${a.name}`],
      ['R', `public.${b.name}`],
    ]);
  });

  it('deny blocks the truncate', async () => {
    const t = await table();
    await client.query(createTrigger('sqltriga', t.name, [t.queue, 'deny'], truncateTrigger));
    await expectPgError(
      client.query(`truncate ${t.name}`),
      `Table 'public.${t.name}' to queue '${t.queue}': change not allowed (TRUNCATE)`,
    );
    expect(await tableRows(client, t.name)).toEqual(['(1,a)']);
    expect(await events(client, t.queue)).toEqual([]);
  });

  it('refuse arguments that only make sense for rows', async () => {
    for (const [args, message] of [
      [['ignore=v'], 'Column ignore does not make sense for truncate trigger'],
      [['pkey=v'], 'Custom pkey_list does not make sense for truncate trigger'],
      [['backup'], 'Backup does not make sense for truncate trigger'],
      [[`ev_extra1='x'`], 'Custom expressions do not make sense for truncater trigger'],
      [['when=true'], 'Custom expressions do not make sense for truncater trigger'],
      [['backup', 'pkey=v', 'ignore=v'], 'Column ignore does not make sense for truncate trigger'],
      [['SKIP', 'ignore=v'], 'Column ignore does not make sense for truncate trigger'],
      [['SKIP'], 'SKIP does not work in AFTER trigger.'],
      [['bad', 'ignore=v'], 'bad param to pgq trigger'],
    ] as const) {
      const t = await table();
      await client.query(createTrigger('jsontriga', t.name, [t.queue, ...args], truncateTrigger));
      await expectPgError(client.query(`truncate ${t.name}`), message);
      expect(await tableRows(client, t.name)).toEqual(['(1,a)']);
      expect(await events(client, t.queue)).toEqual([]);
    }
  });

  it('need a queue name', async () => {
    const t = await table();
    await client.query(createTrigger('logutriga', t.name, [], truncateTrigger));
    await expectPgError(
      client.query(`truncate ${t.name}`),
      'pgq trigger must have destination queue as argument',
    );
    expect(await tableRows(client, t.name)).toEqual(['(1,a)']);
  });

  it('queue the event from a BEFORE TRUNCATE trigger with SKIP too (a truncate cannot be skipped)', async () => {
    const t = await table();
    await client.query(
      createTrigger('logutriga', t.name, [t.queue, 'SKIP'], {
        ...truncateTrigger,
        timing: 'BEFORE',
      }),
    );
    await client.query(`truncate ${t.name}`);
    expect((await events(client, t.queue)).map((ev) => ev.ev_type)).toEqual(['R']);
    expect(await tableRows(client, t.name)).toEqual([]);
  });
});

/**
 * The pgq triggers run with the privileges of the user making the change: a plain member of
 * pgq_writer, owning its table, can use every trigger feature; a user without pgq_writer
 * cannot queue (upstream: the C trigger calls pgq.insert_event as that user).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';
import { createTrigger, events, newQueue } from './trigger-helpers.js';

const db = useTestDatabase();
let admin: pg.Client;
const suffix = Math.random().toString(36).slice(2, 8);
const writer = `trg_writer_${suffix}`;
const outsider = `trg_outsider_${suffix}`;

beforeAll(async () => {
  admin = await db.connect();
  await admin.query(`create role ${quoteIdent(writer)} login in role pgq_writer`);
  await admin.query(`create role ${quoteIdent(outsider)} login`);
  await admin.query(`create schema ${quoteIdent(writer)} authorization ${quoteIdent(writer)}`);
});

afterAll(async () => {
  await admin.query(`drop schema ${quoteIdent(writer)} cascade`);
  await admin.query(`drop owned by ${quoteIdent(writer)}, ${quoteIdent(outsider)}`);
  await admin.query(`drop role ${quoteIdent(writer)}; drop role ${quoteIdent(outsider)}`);
});

async function as<T>(role: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(db.config({ user: role }));
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('trigger privileges', () => {
  it('a pgq_writer member queues with every kind of argument', async () => {
    const queue = await newQueue(admin);
    const table = `${quoteIdent(writer)}.t`;
    await as(writer, async (client) => {
      await client.query(`create table ${table} (id int primary key, v text, _pgq_ev_extra3 text)`);
      await client.query(
        createTrigger('logutriga', table, [queue, 'backup', 'when=id > 0', `ev_extra4=v || '!'`]),
      );
      await client.query(createTrigger('sqltriga', table, [queue, 'ignore=v'], { name: 's' }));
      await client.query(
        createTrigger('jsontriga', table, [queue], { on: 'TRUNCATE', level: 'STATEMENT' }),
      );
      await client.query(`insert into ${table} values (1, 'a', 'x3')`);
      await client.query(`update ${table} set v = 'b'`);
      await client.query(`truncate ${table}`);
    });
    expect(await events(admin, queue)).toEqual([
      {
        ev_type: 'I:id',
        ev_data: 'id=1&v=a',
        ev_extra1: `${writer}.t`,
        ev_extra2: null,
        ev_extra3: 'x3',
        ev_extra4: 'a!',
      },
      {
        ev_type: 'I',
        ev_data: `(id) values ('1')`,
        ev_extra1: `${writer}.t`,
        ev_extra2: null,
        ev_extra3: 'x3',
        ev_extra4: null,
      },
      {
        ev_type: 'U:id',
        ev_data: 'id=1&v=b',
        ev_extra1: `${writer}.t`,
        ev_extra2: 'id=1&v=a',
        ev_extra3: 'x3',
        ev_extra4: 'b!',
      },
      {
        ev_type: `{"op":"TRUNCATE","table":["${writer}","t"],"pkey":["id"]}`,
        ev_data: '{}',
        ev_extra1: `${writer}.t`,
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      },
    ]);
  });

  it('a user outside pgq_writer cannot queue through a trigger', async () => {
    const queue = await newQueue(admin);
    await admin.query(`create table priv_t (id int primary key);
                       grant insert on priv_t to ${quoteIdent(outsider)}`);
    await admin.query(createTrigger('logutriga', 'priv_t', [queue]));
    const error = await as(outsider, (client) =>
      client.query('insert into priv_t values (1)').then(
        () => null,
        (e: { code: string; message: string }) => e,
      ),
    );
    expect(error).toMatchObject({ code: '42501' });
    expect(error?.message).toMatch(/^permission denied for function insert_event$/);
    expect(await events(admin, queue)).toEqual([]);
  });
});

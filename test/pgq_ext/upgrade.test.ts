import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { useTestDatabase } from '../harness/database.js';
import { getLastTick, isBatchDone, isEventDone, setEventDone } from './ext-helpers.js';

const db = useTestDatabase();

/** pgq_ext 2.x tables: no subconsumer_id anywhere, keys on the consumer alone. */
const layout2x = `
  drop table pgq_ext.completed_tick, pgq_ext.completed_batch, pgq_ext.completed_event,
    pgq_ext.partial_batch;
  create table pgq_ext.completed_tick (consumer_id text not null primary key,
                                       last_tick_id bigint not null);
  create table pgq_ext.completed_batch (consumer_id text not null primary key,
                                        last_batch_id bigint not null);
  create table pgq_ext.completed_event (consumer_id text not null, batch_id bigint not null,
                                        event_id bigint not null,
                                        primary key (consumer_id, batch_id, event_id));
  create table pgq_ext.partial_batch (consumer_id text not null primary key,
                                      cur_batch_id bigint not null);
  insert into pgq_ext.completed_tick values ('old', 70);
  insert into pgq_ext.completed_batch values ('old', 80);
  insert into pgq_ext.completed_event values ('old', 90, 1);
  insert into pgq_ext.partial_batch values ('old', 90);
`;

async function keys(client: pg.Client): Promise<Record<string, string>> {
  const { rows } = await client.query(
    `select c.conrelid::regclass::text as tbl, pg_get_constraintdef(c.oid) as def
       from pg_constraint c
      where c.connamespace = 'pgq_ext'::regnamespace and c.contype = 'p'`,
  );
  return Object.fromEntries(rows.map((row) => [row.tbl, row.def]));
}

describe('pgq_ext.upgrade_schema', () => {
  it('adds subconsumer_id to 2.x tables, keeping their rows as the plain consumer', async () => {
    const database = await db.createDatabase('old');
    const client = new pg.Client(db.config({ database }));
    await client.connect();
    try {
      await installSchemas(client, ['pgq_ext']);
      expect((await client.query('select pgq_ext.upgrade_schema() as n')).rows[0]?.n).toBe(0);
      const current = await keys(client);
      await client.query(layout2x);

      // A re-install runs the upgrade; afterwards upgrade_schema() has nothing left to do.
      await installSchemas(client, ['pgq_ext']);
      expect((await client.query('select pgq_ext.upgrade_schema() as n')).rows[0]?.n).toBe(0);
      expect(await keys(client)).toEqual(current);
      const { rows } = await client.query(
        `select table_name, column_default, is_nullable from information_schema.columns
          where table_schema = 'pgq_ext' and column_name = 'subconsumer_id' order by 1`,
      );
      expect(rows).toEqual(
        ['completed_batch', 'completed_event', 'completed_tick', 'partial_batch'].map((t) => ({
          table_name: t,
          column_default: "''::text",
          is_nullable: 'NO',
        })),
      );

      expect(await isBatchDone(client, 'old', 80)).toBe(true);
      expect(await getLastTick(client, 'old')).toBe(70);
      expect(await isEventDone(client, 'old', 90, 1)).toBe(true);
      expect(await setEventDone(client, 'old', 91, 1)).toBe(true);
      expect(await isEventDone(client, 'old', 90, 1)).toBe(false);
    } finally {
      await client.end();
    }
  });

  it('counts each table it changes', async () => {
    const database = await db.createDatabase('count');
    const client = new pg.Client(db.config({ database }));
    await client.connect();
    try {
      await installSchemas(client, ['pgq_ext']);
      await client.query(layout2x);
      await client.query(
        "alter table pgq_ext.completed_tick add column subconsumer_id text not null default ''",
      );
      expect((await client.query('select pgq_ext.upgrade_schema() as n')).rows[0]?.n).toBe(3);
      expect((await client.query('select pgq_ext.upgrade_schema() as n')).rows[0]?.n).toBe(0);
    } finally {
      await client.end();
    }
  });
});

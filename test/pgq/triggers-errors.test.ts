/**
 * Errors of the pgq triggers, with upstream's C texts: each rejected change must leave the
 * table and the queue as they were.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  createTrigger,
  events,
  expectPgError,
  newQueue,
  pgError,
  tableRows,
} from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
});

const formats = ['logutriga', 'sqltriga', 'jsontriga'] as const;
let tables = 0;

/**
 * A table holding row (1, 'a'), one trigger with the given arguments and a fresh queue;
 * `check()` asserts that the table and the queue are unchanged.
 */
async function setup(
  fn: (typeof formats)[number],
  args: string[],
  columns = '(id int primary key, v text)',
  options: Parameters<typeof createTrigger>[3] = {},
) {
  tables += 1;
  const table = `e_${tables}`;
  const queue = await newQueue(client);
  await client.query(
    `create table ${table} ${columns}; insert into ${table} (id, v) values (1, 'a')`,
  );
  await client.query(createTrigger(fn, table, [queue, ...args], options));
  const before = await tableRows(client, table);
  return {
    table,
    queue,
    async check() {
      expect(await tableRows(client, table)).toEqual(before);
      expect(await events(client, queue)).toEqual([]);
    },
  };
}

describe('trigger errors', () => {
  for (const fn of formats) {
    it(`${fn}: update and delete need a key`, async () => {
      const t = await setup(fn, [], '(id int, v text)');
      for (const sql of [`update ${t.table} set v = 'b'`, `delete from ${t.table}`]) {
        await expectPgError(client.query(sql), 'Update/Delete on table without pkey');
      }
      await t.check();
    });

    it(`${fn}: an update may not change the key`, async () => {
      const t = await setup(fn, [], '(id int, v text, primary key (v, id))');
      await expectPgError(
        client.query(`update ${t.table} set id = 2`),
        'primary key update not allowed',
      );
      await expectPgError(
        client.query(`update ${t.table} set v = 'b'`),
        'primary key update not allowed',
      );
      await t.check();
    });

    it(`${fn}: an update may not change the key, whatever else changes`, async () => {
      // (upstream's logutriga/jsontriga let this through when ignore= is given and a column
      // before the key changes too)
      const t = await setup(fn, ['ignore=w'], '(v text, id int primary key, w text)');
      await expectPgError(
        client.query(`update ${t.table} set v = 'b', id = 2`),
        'primary key update not allowed',
      );
      await t.check();
    });

    it(`${fn}: unknown arguments are refused`, async () => {
      for (const arg of [
        'foo',
        'skip',
        'IGNORE=v',
        'Backup',
        'ev_extra5=v',
        'ev_type',
        'pkey',
        '',
      ]) {
        const t = await setup(fn, [arg]);
        await expectPgError(
          client.query(`insert into ${t.table} values (2, 'b')`),
          'bad param to pgq trigger',
        );
        await t.check();
      }
    });

    it(`${fn}: SKIP does not work in an AFTER trigger`, async () => {
      const t = await setup(fn, ['SKIP']);
      await expectPgError(
        client.query(`insert into ${t.table} values (2, 'b')`),
        'SKIP does not work in AFTER trigger.',
      );
      await t.check();
    });

    it(`${fn}: insert, update and delete triggers must be FOR EACH ROW`, async () => {
      const t = await setup(fn, [], undefined, { level: 'STATEMENT' });
      for (const sql of [
        `insert into ${t.table} values (2, 'b')`,
        `update ${t.table} set v = 'c'`,
        `delete from ${t.table}`,
      ]) {
        await expectPgError(
          client.query(sql),
          'pgq Ins/Upd/Del trigger must be fired FOR EACH ROW',
        );
      }
      await t.check();
    });
  }

  it('the queue name is required', async () => {
    await client.query('create table e_noqueue (id int primary key)');
    await client.query(createTrigger('logutriga', 'e_noqueue', []));
    await expectPgError(
      client.query('insert into e_noqueue values (1)'),
      'pgq trigger must have destination queue as argument',
    );
    expect(await tableRows(client, 'e_noqueue')).toEqual([]);
  });

  it('an unknown queue fails in pgq.insert_event', async () => {
    await client.query('create table e_badqueue (id int primary key)');
    await client.query(createTrigger('jsontriga', 'e_badqueue', ['no such queue']));
    await expectPgError(client.query('insert into e_badqueue values (1)'), 'No such queue');
    expect(await tableRows(client, 'e_badqueue')).toEqual([]);
  });

  it('when= must give a boolean', async () => {
    for (const [expr, message] of [
      ['id', 'when= query result must be boolean, got=23'],
      ['null', 'when= query result must be boolean, got=25'],
      ['v', 'when= query result must be boolean, got=25'],
      ['', 'when= query result must be boolean, got=0'],
    ]) {
      const t = await setup('logutriga', [`when=${expr}`]);
      await expectPgError(client.query(`insert into ${t.table} values (2, 'b')`), message ?? '');
      await t.check();
    }
  });

  it('when= must not be NULL', async () => {
    const t = await setup('sqltriga', [`when=v = 'x'`]);
    await expectPgError(
      client.query(`insert into ${t.table} values (2, null)`),
      'when= should not be NULL',
    );
    await t.check();
  });

  it('errors of expressions reach the caller', async () => {
    const t = await setup('jsontriga', ['ev_extra1=nosuch']);
    expect(await pgError(client.query(`insert into ${t.table} values (2, 'b')`))).toEqual({
      message: 'column "nosuch" does not exist',
      code: '42703',
    });
    const u = await setup('jsontriga', ['ev_extra2=1 / (id - 2)']);
    expect(await pgError(client.query(`insert into ${u.table} values (2, 'b')`))).toEqual({
      message: 'division by zero',
      code: '22012',
    });
    await t.check();
    await u.check();
  });

  it('columns named _pgq_ev_* must be known magic columns', async () => {
    const t = await setup('logutriga', [], '(id int primary key, v text, _pgq_ev_foo text)');
    await expectPgError(
      client.query(`insert into ${t.table} values (2, 'b')`),
      'Unknown magic column: _pgq_ev_foo',
    );
    await t.check();
  });

  it('sqltriga needs non-NULL key values for update and delete', async () => {
    const t = await setup('sqltriga', ['pkey=id,v'], '(id int, v text, w text)');
    await client.query(`insert into ${t.table} values (2, null, 'x')`);
    const before = await tableRows(client, t.table);
    const eventsBefore = await events(client, t.queue);
    for (const sql of [
      `update ${t.table} set w = 'y' where id = 2`,
      `delete from ${t.table} where id = 2`,
    ]) {
      await expectPgError(client.query(sql), 'logtriga: Unexpected NULL key value');
    }
    expect(await tableRows(client, t.table)).toEqual(before);
    expect(await events(client, t.queue)).toEqual(eventsBefore);
  });

  it('errors carry the table in DETAIL', async () => {
    const t = await setup('logutriga', [], '(id int, v text)');
    await expect(client.query(`delete from ${t.table}`)).rejects.toMatchObject({
      message: 'Update/Delete on table without pkey',
      detail: `table: public.${t.table}`,
    });
  });
});

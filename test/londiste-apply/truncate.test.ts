/**
 * `R` events: TRUNCATE <dest> CASCADE in order with the other events of the batch (rows
 * before it gone, rows after it kept, referencing tables emptied too); skipped with
 * ignore_truncate=1.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  applyPending,
  createQueue,
  createTablePair,
  defaultHandlers,
  expectSameRows,
} from './helpers.js';

const test = useTestDatabase();
let db: pg.Client;

beforeAll(async () => {
  db = await test.connect();
});

describe('truncate events', () => {
  it('truncate in the middle of a batch, cascading to referencing tables', async () => {
    await createQueue(db, 'q_trunc');
    const t = await createTablePair(db, 'q_trunc', 'parent', 'id int primary key, v text');
    const other = await createTablePair(db, 'q_trunc', 'other', 'id int primary key');
    await db.query('create table dst.child (id int primary key, parent int references dst.parent)');
    await db.query(`insert into ${t.dst} values (99, 'old')`);
    await db.query('insert into dst.child values (1, 99)');
    const handlers = defaultHandlers([t, other]);
    await db.query(`insert into ${t.src} values (1, 'a'), (2, 'b')`);
    await db.query(`insert into ${other.src} values (1)`);
    await db.query(`truncate ${t.src}`);
    await db.query(`insert into ${t.src} values (3, 'c')`);
    await db.query(`update ${t.src} set v = 'cc' where id = 3`);
    const counters = await applyPending(db, 'q_trunc', handlers);
    expect(counters).toEqual({ applied: 5, ignored: 0, truncates: 1 });
    await expectSameRows(db, t.src, t.dst);
    await expectSameRows(db, other.src, other.dst);
    const child = await db.query('select count(*)::int as n from dst.child');
    expect(child.rows[0].n).toBe(0);
  });

  it('ignore_truncate=1 keeps the rows', async () => {
    await createQueue(db, 'q_keep');
    const t = await createTablePair(db, 'q_keep', 'kept', 'id int primary key');
    const handlers = defaultHandlers([t], { ignore_truncate: '1' });
    await db.query(`insert into ${t.src} values (1), (2)`);
    await db.query(`truncate ${t.src}`);
    await db.query(`insert into ${t.src} values (3)`);
    const counters = await applyPending(db, 'q_keep', handlers);
    expect(counters.truncates).toBe(1);
    const { rows } = await db.query(`select id from ${t.dst} order by id`);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('events of tables without a handler here are counted as ignored', async () => {
    await createQueue(db, 'q_ignored');
    const t = await createTablePair(db, 'q_ignored', 'taken', 'id int primary key');
    const skipped = await createTablePair(db, 'q_ignored', 'skipped', 'id int primary key');
    await db.query(`insert into ${t.src} values (1)`);
    await db.query(`insert into ${skipped.src} values (1), (2)`);
    const counters = await applyPending(db, 'q_ignored', defaultHandlers([t]));
    expect(counters).toEqual({ applied: 1, ignored: 2, truncates: 0 });
    const { rows } = await db.query(`select count(*)::int as n from ${skipped.dst}`);
    expect(rows[0].n).toBe(0);
  });
});

/**
 * The default handler applies real trigger events of the three formats into a copy of the
 * table, and the copy equals the source row by row.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TableHandler } from '../../src/londiste/handler.js';
import { createTableHandler } from '../../src/londiste/handlers/registry.js';
import { useTestDatabase } from '../harness/database.js';
import {
  applyPending,
  createQueue,
  createTablePair,
  expectSameRows,
  type TriggerKind,
} from './helpers.js';

const test = useTestDatabase();
let db: pg.Client;

beforeAll(async () => {
  db = await test.connect();
});

describe.each<TriggerKind>(['logutriga', 'sqltriga', 'jsontriga'])('%s events', (kind) => {
  it('inserts, updates and deletes land as on the source', async () => {
    const queue = `q_normal_${kind}`;
    await createQueue(db, queue);
    const t = await createTablePair(
      db,
      queue,
      `normal_${kind}`,
      'id int primary key, v text, n numeric',
    );
    const handler = createTableHandler(
      { name: 'londiste', args: {} },
      { tableName: t.setName, destTable: t.destName },
    );
    const handlers = new Map<string, TableHandler>([[t.setName, handler]]);
    await db.query(
      `insert into ${t.src} select i, 'v' || i, i * 1.5 from generate_series(1, 50) i`,
    );
    await db.query(`update ${t.src} set v = v || '!' where id % 3 = 0`);
    await db.query(`delete from ${t.src} where id % 5 = 0`);
    await db.query(`update ${t.src} set n = null where id % 7 = 0`);
    const counters = await applyPending(db, queue, handlers);
    expect(counters.applied).toBe(50 + 16 + 10 + 6);
    await expectSameRows(db, t.src, t.dst);
    await db.query(`truncate ${t.src}`);
    await db.query(`insert into ${t.src} values (1, 'after', 1)`);
    const after = await applyPending(db, queue, handlers);
    expect(after.truncates).toBe(1);
    await expectSameRows(db, t.src, t.dst);
  });
});

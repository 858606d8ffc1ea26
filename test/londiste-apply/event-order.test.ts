/**
 * Set-based apply gives what applying event by event gives: random mixes of inserts,
 * updates and deletes (keys updated twice, deleted and inserted again, a unique index on
 * another column whose values move between rows) in batches of random size, compared with
 * the source row by row; and a multi-row UPDATE that meets its unique index in another
 * order than the source's is applied again row by row.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LondisteTableHandler } from '../../src/londiste/handlers/londiste.js';
import { useTestDatabase } from '../harness/database.js';
import {
  applyPending,
  createQueue,
  createTablePair,
  defaultHandlers,
  expectSameRows,
  type TriggerKind,
} from './helpers.js';

const test = useTestDatabase();
let db: pg.Client;

beforeAll(async () => {
  db = await test.connect();
});

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe.each<TriggerKind>(['logutriga', 'sqltriga', 'jsontriga'])('%s', (kind) => {
  it('random mixes applied in batches equal the source', async () => {
    const queue = `q_mix_${kind}`;
    await createQueue(db, queue);
    const t = await createTablePair(
      db,
      queue,
      `mix_${kind}`,
      'id int, k text, u int unique, v text, primary key (id, k)',
      kind,
    );
    const handlers = defaultHandlers([t]);
    const rnd = random(kind.length * 7919);
    const pick = (n: number) => Math.floor(rnd() * n);
    let statements = 0;
    const run = async (sql: string, values: unknown[]) => {
      try {
        await db.query(sql, values);
        statements++;
      } catch (error) {
        // The source refused it (a unique value taken): no event, nothing to replay.
        if ((error as { code?: string }).code !== '23505') throw error;
      }
    };
    for (let batch = 0; batch < 12; batch++) {
      const size = 1 + pick(60);
      for (let i = 0; i < size; i++) {
        const id = pick(25);
        const k = pick(2) === 0 ? 'a' : 'b';
        const choice = pick(10);
        if (choice < 4) {
          await run(`insert into ${t.src} values ($1, $2, $3, $4) on conflict do nothing`, [
            id,
            k,
            pick(80),
            `ins ${batch}.${i}`,
          ]);
        } else if (choice < 8) {
          await run(`update ${t.src} set u = $3, v = $4 where id = $1 and k = $2`, [
            id,
            k,
            pick(3) === 0 ? null : pick(80),
            `upd ${batch}.${i}`,
          ]);
        } else if (choice < 9) {
          await run(`delete from ${t.src} where id = $1 and k = $2`, [id, k]);
        } else {
          // Two rows trade their unique values through a free one, in one transaction.
          await db.query('begin');
          const { rows } = await db.query(
            `select id, k, u from ${t.src} where u is not null order by random() limit 2`,
          );
          if (rows.length === 2) {
            const [a, b] = rows;
            await db.query(`update ${t.src} set u = -1000 where id = $1 and k = $2`, [a.id, a.k]);
            await db.query(`update ${t.src} set u = $3 where id = $1 and k = $2`, [b.id, b.k, a.u]);
            await db.query(`update ${t.src} set u = $3 where id = $1 and k = $2`, [a.id, a.k, b.u]);
          }
          await db.query('commit');
        }
      }
      await applyPending(db, queue, handlers);
      await expectSameRows(db, t.src, t.dst);
    }
    expect(statements).toBeGreaterThan(100);
  });

  it('an UPDATE run that meets the unique index out of order is applied row by row', async () => {
    const queue = `q_swap_${kind}`;
    await createQueue(db, queue);
    const t = await createTablePair(
      db,
      queue,
      `swap_${kind}`,
      'id int primary key, u int unique',
      kind,
    );
    await db.query(`insert into ${t.src} values (1, 10), (2, 20), (3, 30)`);
    const handlers = defaultHandlers([t]);
    await applyPending(db, queue, handlers);
    // Row 2 frees 20 before row 1 takes it; a hash join over the table visits row 1 first.
    await db.query(`update ${t.src} set u = 25 where id = 2`);
    await db.query(`update ${t.src} set u = 20 where id = 1`);
    await db.query(`update ${t.src} set u = 31 where id = 3`);
    await applyPending(db, queue, handlers, [
      'set local enable_nestloop = off',
      'set local enable_mergejoin = off',
      'set local enable_indexscan = off',
      'set local enable_bitmapscan = off',
    ]);
    await expectSameRows(db, t.src, t.dst);
    const handler = handlers.get(t.setName) as LondisteTableHandler;
    if (kind !== 'sqltriga') expect(handler.applier.rowByRowRetries).toBe(1);
  });
});

import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { makeQueue, tick } from './consumer-helpers.js';
import { usePrivateDatabase } from './private-cluster.js';

// Own cluster: another file's open transaction would hold tick xmin back and stop rotation.
const db = usePrivateDatabase();
const queue = 'rotating';
const producerCount = 3;

/** Run the maintenance plan the way pgqd does: each step repeated while it returns 1. */
async function runMaintenance(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ func_name: string; func_arg: string | null }>(
    'select func_name, func_arg from pgq.maint_operations()',
  );
  for (const { func_name, func_arg } of rows) {
    if (!func_name.startsWith('pgq.maint_rotate_tables') && func_name !== 'pgq.maint_retry_events')
      continue;
    const call = func_arg === null ? `select ${func_name}() as r` : `select ${func_name}($1) as r`;
    let again = true;
    while (again) {
      const result = await client.query(call, func_arg === null ? [] : [func_arg]);
      again = Number(result.rows[0]?.r) === 1;
    }
  }
}

describe('rotation under load', () => {
  it('loses no event and leaves no dead tuples in event tables', async () => {
    await makeQueue(db, queue);
    await db.query("update pgq.queue set queue_rotation_period = '0' where queue_name = $1", [
      queue,
    ]);
    await db.query('select pgq.register_consumer($1, $2)', [queue, 'reader']);
    const producers = await Promise.all(Array.from({ length: producerCount }, () => db.connect()));
    const worker = await db.connect();
    const produced: string[] = [];
    const consumed: string[] = [];
    let producing = true;

    const produce = async (client: pg.Client, index: number) => {
      for (let n = 0; producing; n++) {
        await client.query('begin');
        for (let k = 0; k < 5; k++) {
          const { rows } = await client.query('select pgq.insert_event($1, $2, $3) as id', [
            queue,
            'load',
            `${index}:${n}:${k}`,
          ]);
          produced.push(String(rows[0]?.id));
        }
        await client.query('commit');
      }
      await client.query('select pg_stat_force_next_flush()');
    };
    const consumeAvailable = async () => {
      for (;;) {
        const { rows } = await worker.query('select pgq.next_batch($1, $2) as b', [
          queue,
          'reader',
        ]);
        const batch = rows[0]?.b;
        if (batch === null) return;
        const events = await worker.query('select ev_id from pgq.get_batch_events($1)', [batch]);
        consumed.push(...events.rows.map((row) => String(row.ev_id)));
        await worker.query('select pgq.finish_batch($1)', [batch]);
      }
    };

    const running = producers.map((client, index) => produce(client, index));
    let rotations = 0;
    const startTable = (
      await db.query('select queue_cur_table as t from pgq.queue where queue_name = $1', [queue])
    ).rows[0]?.t;
    let lastTable = startTable;
    while (rotations < 6) {
      await tick(worker, queue);
      await consumeAvailable();
      await runMaintenance(worker);
      const current = (
        await worker.query('select queue_cur_table as t from pgq.queue where queue_name = $1', [
          queue,
        ])
      ).rows[0]?.t;
      if (current !== lastTable) {
        rotations++;
        lastTable = current;
      }
    }
    producing = false;
    await Promise.all(running);
    await tick(worker, queue);
    await consumeAvailable();

    expect(produced.length).toBeGreaterThan(100);
    expect([...consumed].sort()).toEqual([...produced].sort());
    expect(new Set(consumed).size).toBe(consumed.length);

    await Promise.all([...producers, worker].map((client) => client.end()));
    const stats = await db.query<{ relname: string; n_dead_tup: string }>(
      `select relname, n_dead_tup from pg_stat_user_tables
        where schemaname = 'pgq' and relname like 'event\\_%\\_%' order by relname`,
    );
    expect(stats.rows.length).toBe(3);
    for (const row of stats.rows) expect(Number(row.n_dead_tup), row.relname).toBe(0);
  });
});

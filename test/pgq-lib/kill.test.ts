/**
 * At-least-once and exactly-once under SIGKILL: a real consumer process is killed in the middle
 * of batches again and again over a stream of events, then run to the end.
 */

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { type Child, spawnChild } from './child-process.js';
import { makeQueue, register, tick, waitFor } from './helpers.js';

const db = useTestDatabase();
const child = fileURLToPath(new URL('./fixtures/consumer-child.mjs', import.meta.url));

// `npm run test:stress` (SKYTOOLS_STRESS=1) runs the long form: 20 kills over 10k events.
const stress = process.env.SKYTOOLS_STRESS === '1';
const events = stress ? 10_000 : 2000;
const perTick = 150;
const kills = stress ? 20 : 6;

function start(queue: string, consumer: string, run: number, mode: string): Child {
  return spawnChild(child, [JSON.stringify(db.config()), queue, consumer, String(run), mode]);
}

async function setup(queue: string): Promise<void> {
  await makeQueue(db, queue);
  await register(db, queue, 'worker');
  await db.query(
    'create table if not exists processed (ev_id bigint, batch_id bigint, run int, at timestamptz default clock_timestamp())',
  );
  for (let from = 0; from < events; from += perTick) {
    await db.query(
      `select pgq.insert_event($1, 'n', i::text) from generate_series($2::int, $3::int) i`,
      [queue, from, Math.min(from + perTick, events) - 1],
    );
    await tick(db, queue);
  }
}

/** Kill the consumer `kills` times mid-stream, then let a last one finish the queue. */
async function killRepeatedly(queue: string, mode: string): Promise<void> {
  let run = 0;
  for (; run < kills; run++) {
    const running = start(queue, 'worker', run, mode);
    // Somewhere in the first few batches of the run (ticks of 150 events, blocks of 64).
    const target = 40 + ((run * 173) % 360);
    await waitFor(
      async () => running.progress() >= target || running.proc.exitCode !== null,
      'progress',
    );
    expect(running.proc.exitCode, running.output()).toBeNull();
    running.proc.kill('SIGKILL');
    await running.exited;
  }
  const last = start(queue, 'worker', run, mode);
  await waitFor(async () => {
    const { rows } = await db.query(
      `select c.current_batch is null and c.last_tick = q.last_tick_id as done
         from pgq.get_consumer_info($1, 'worker') c, pgq.get_queue_info($1) q`,
      [queue],
    );
    return rows[0]?.done === true || last.proc.exitCode !== null;
  }, 'the last consumer to catch up');
  last.proc.kill('SIGINT');
  expect(await last.exited, last.output()).toBe(0);
  expect(last.output()).toContain('stopped');
}

describe('Consumer under SIGKILL', () => {
  it('at-least-once: every event handled, a killed batch delivered again whole', async () => {
    await setup('alo');
    await killRepeatedly('alo', 'plain');
    const distinct = await db.query('select count(distinct ev_id)::int as n from processed');
    expect(distinct.rows[0]?.n).toBe(events);
    // For every batch handled in several runs, the last run handled all the others saw.
    const partial = await db.query(`
      with last as (select batch_id, max(run) as run from processed group by batch_id)
      select p.batch_id, p.ev_id from processed p join last l using (batch_id)
      where p.run < l.run
      except
      select p.batch_id, p.ev_id from processed p join last l using (batch_id, run)`);
    expect(partial.rows).toEqual([]);
    const redelivered = await db.query(
      'select count(*)::int as n from (select batch_id from processed group by batch_id having count(distinct run) > 1) x',
    );
    expect(redelivered.rows[0]?.n).toBeGreaterThan(0);
    const duplicates = await db.query(
      'select count(*)::int as n from (select ev_id from processed group by ev_id having count(*) > 1) x',
    );
    expect(duplicates.rows[0]?.n).toBeGreaterThan(0);
  });

  it('transactional: every event applied exactly once', async () => {
    await db.query('drop table if exists processed');
    await setup('exo');
    await killRepeatedly('exo', 'transactional');
    const counts = await db.query(
      'select count(*)::int as rows, count(distinct ev_id)::int as events, count(distinct run)::int as runs from processed',
    );
    expect(counts.rows[0]).toMatchObject({ rows: events, events });
    expect(counts.rows[0]?.runs).toBeGreaterThan(1);
  });

  it('a second process with the same consumer name refuses to start', async () => {
    await makeQueue(db, 'dup');
    await register(db, 'dup', 'worker');
    await db.query('create table if not exists processed (ev_id bigint, batch_id bigint, run int)');
    const first = start('dup', 'worker', 0, 'plain');
    await waitFor(
      async () =>
        (
          await db.query(
            `select 1 from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`,
          )
        ).rowCount === 1,
      'the first process to take the lock',
    );
    const second = start('dup', 'worker', 1, 'plain');
    expect(await second.exited).toBe(2);
    expect(second.output()).toMatch(
      /^error CONSUMER_LOCKED: consumer "worker" on queue "dup" is already running in another process \(backend pid \d+\); only one may run at a time\n$/,
    );
    first.proc.kill('SIGINT');
    expect(await first.exited).toBe(0);
  });
});

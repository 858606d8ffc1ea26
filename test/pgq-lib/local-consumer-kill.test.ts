/**
 * LocalConsumer under SIGKILL: a real process, killed again and again in the middle of a stream,
 * applies each batch's events to a target table in one transaction per batch.
 *
 * What file tracking guarantees, and so what is asserted: no event is ever missing; a batch
 * whose tick reached the file is never applied again; the only repeats are whole batches whose
 * process died after the target commit and before the file write (that batch is done again,
 * whole, by the next run). So an event may appear twice only in a batch that was the last one
 * its killed run committed. Exactly-once needs the work and the position in one transaction:
 * SerialConsumer, or Consumer with `transactional: true`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { type Child, spawnChild } from './child-process.js';
import { waitFor } from './helpers.js';
import { makeTarget, queueEventIds, streamQueue, type Target } from './target-helpers.js';

const db = useTestDatabase();
const child = fileURLToPath(new URL('./fixtures/local-child.mjs', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-local-kill-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// `npm run test:stress` (SKYTOOLS_STRESS=1) runs the long form: 20 kills over 10k events.
const stress = process.env.SKYTOOLS_STRESS === '1';
const ticks = stress ? 67 : 14;
const perTick = 150;
const kills = stress ? 20 : 6;

function start(target: Target, file: string, run: number): Child {
  return spawnChild(child, [
    JSON.stringify(db.config()),
    JSON.stringify(target.config),
    'lk',
    'local',
    file,
    'run',
    String(run),
  ]);
}

describe('LocalConsumer under SIGKILL', () => {
  it('no event missing; repeats only of a batch committed just before the kill', async () => {
    const target = await makeTarget(db, 'local_kill');
    await streamQueue(db, 'lk', 'local', ticks, perTick);
    const file = path.join(scratch, 'lk.tick');
    let run = 0;
    for (; run < kills; run++) {
      const running = start(target, file, run);
      // Somewhere in the first few batches of the run (batches of 150 events, blocks of 64).
      const goal = 40 + ((run * 173) % 360);
      await waitFor(
        async () => running.progress() >= goal || running.proc.exitCode !== null,
        'progress',
      );
      expect(running.proc.exitCode, running.output()).toBeNull();
      running.proc.kill('SIGKILL');
      await running.exited;
    }
    const last = start(target, file, run);
    await waitFor(async () => {
      const { rows } = await db.query(
        `select c.current_batch is null and c.last_tick = q.last_tick_id as done
           from pgq.get_consumer_info('lk', 'local') c, pgq.get_queue_info('lk') q`,
      );
      return rows[0]?.done === true || last.proc.exitCode !== null;
    }, 'the last consumer to catch up');
    last.proc.kill('SIGINT');
    expect(await last.exited, last.output()).toBe(0);

    const ids = await queueEventIds(db, 'lk');
    const { rows: present } = await target.query<{ ev_id: string }>(
      'select distinct ev_id::text from applied order by 1',
    );
    expect(present.map((r) => r.ev_id)).toEqual(ids);

    // Every application of a batch is whole (one target transaction per batch).
    const partial = await target.query(`
      with apps as (select batch_id, run, count(*) as n from applied group by batch_id, run)
      select batch_id from apps group by batch_id having count(distinct n) > 1`);
    expect(partial.rows).toEqual([]);
    // A batch applied again was the last one its earlier run committed before it died.
    const repeats = await target.query<{ batch_id: string; run: number; last: boolean }>(`
      with apps as (select distinct batch_id, run from applied),
           last_commit as (select run, max(batch_id) as batch_id from applied group by run)
      select a.batch_id::text, a.run,
             exists (select 1 from last_commit l where l.run = a.run and l.batch_id = a.batch_id) as last
        from apps a
       where exists (select 1 from apps b where b.batch_id = a.batch_id and b.run > a.run)`);
    expect(repeats.rows.filter((r) => !r.last)).toEqual([]);
    expect(repeats.rows.every((r) => r.run < kills)).toBe(true);
    expect(repeats.rows.length).toBeLessThanOrEqual(kills);
    const runs = await target.query<{ n: number }>(
      'select count(distinct run)::int as n from applied',
    );
    expect(runs.rows[0]?.n).toBeGreaterThan(1);
  });
});

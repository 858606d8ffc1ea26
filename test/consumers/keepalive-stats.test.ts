/**
 * keepalive_stats in real simple_consumer processes: while no batch comes, `{idle: S}` every
 * keepalive_stats seconds, bound like the batch line, S counting from the last batch; none
 * while a batch is being processed; none at all with 0.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick } from '../pgq-lib/helpers.js';
import { type JobProcess, libpq, poll, useJobs } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();
const idleLine = /\{idle: (\d+)\}$/;

async function job(queue: string, keys: Record<string, string | number>): Promise<JobProcess> {
  await makeQueue(db, queue);
  await register(db, queue, queue);
  await db.query(`create table ${queue}_dst (id int)`);
  const config = jobs.writeConfig(queue, 'simple_consumer', {
    src_db: libpq(db.config()),
    queue_name: queue,
    dst_query: `insert into ${queue}_dst values (%%(id)s)`,
    loop_delay: 0.1,
    ...keys,
  });
  const proc = jobs.start('simple_consumer', [config]);
  await proc.waitFor(new RegExp(`starting: consumer ${queue} `));
  return proc;
}

/** The idle seconds of each idle line among `lines`. */
function idles(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const m = idleLine.exec(line);
    return m ? [Number(m[1])] : [];
  });
}

async function waitIdles(proc: JobProcess, from: number, atLeast: number): Promise<void> {
  await poll(
    async () => idles(proc.lines.slice(from)).length,
    (n) => n >= atLeast,
    20_000,
    () => `waiting for ${atLeast} idle lines in:\n${proc.lines.join('\n')}`,
  );
}

describe('simple_consumer keepalive_stats', () => {
  it('logs {idle: S} while no batch comes, the clock restarting at each batch; 0 = never', async () => {
    const off = await job('ka_off', { keepalive_stats: 0 });
    const on = await job('ka_on', { keepalive_stats: 1 });

    await waitIdles(on, 0, 2);
    const before = idles(on.lines);
    expect(before[1]).toBeGreaterThan(before[0] as number);
    expect(on.lines.find((line) => idleLine.test(line))).toMatch(
      / INFO \[queue=ka_on consumer=ka_on job=ka_on\] \{idle: 1\}$/,
    );

    await db.query("select pgq.insert_event('ka_on', 'I:id', 'id=1')");
    await tick(db, 'ka_on');
    const batch = await on.waitFor(/\{count: 1, duration: /);
    const at = on.lines.indexOf(batch);
    const last = idles(on.lines.slice(0, at)).at(-1) as number;
    expect(last).toBeGreaterThanOrEqual(2);
    await waitIdles(on, at, 1);
    // Counted from the batch, not from the start.
    expect(idles(on.lines.slice(at))[0]).toBeLessThan(last);

    // The job with keepalive_stats = 0 ran all that time (it started first) and wrote none.
    expect(idles(off.lines)).toEqual([]);
    for (const proc of [on, off]) {
      proc.signal('SIGINT');
      expect(await proc.exited).toBe(0);
    }
  });

  it('writes no idle line while a batch is being processed, however long it takes', async () => {
    const slow = await job('ka_busy', {
      keepalive_stats: 0.3,
      dst_query: 'insert into ka_busy_dst select %%(id)s from pg_sleep(0.4)',
    });
    await waitIdles(slow, 0, 1);
    for (let id = 1; id <= 6; id++) {
      await db.query("select pgq.insert_event('ka_busy', 'I:id', $1)", [`id=${id}`]);
    }
    await tick(db, 'ka_busy');
    // Two statements done: the batch has been in hand for longer than keepalive_stats.
    await poll(
      async () => Number((await db.query('select count(*) as n from ka_busy_dst')).rows[0]?.n),
      (n) => n >= 2,
    );
    const inBatch = slow.lines.length;
    const batch = await slow.waitFor(/\{count: 6, duration: /);
    expect(idles(slow.lines.slice(inBatch, slow.lines.indexOf(batch)))).toEqual([]);
    // And the idle lines come again after it.
    await waitIdles(slow, slow.lines.indexOf(batch), 1);
    slow.signal('SIGINT');
    expect(await slow.exited).toBe(0);
  });
});

import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick } from '../pgq-lib/helpers.js';
import { libpq, poll, useJobs } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();

const events = 20;

/** A job in the middle of a slow batch (each event's statement sleeps a little). */
async function midBatch(name: string) {
  await makeQueue(db, name);
  await register(db, name, name);
  await db.query(`create table ${name}_dst (id int, tag text)`);
  const keys = {
    src_db: libpq(db.config()),
    queue_name: name,
    dst_query: `insert into ${name}_dst select %%(id)s, 'first' from pg_sleep(0.1)`,
    loop_delay: 0.1,
    exception_sleep: 0.3,
  };
  const config = jobs.writeConfig(name, 'simple_consumer', keys);
  const proc = jobs.start('simple_consumer', [config]);
  for (let i = 1; i <= events; i++) {
    await db.query('select pgq.insert_event($1, $2, $3)', [name, 'I:id', `id=${i}`]);
  }
  await tick(db, name);
  const count = async () =>
    Number((await db.query(`select count(*) as n from ${name}_dst`)).rows[0]?.n);
  await poll(count, (n) => n >= 1);
  const openBatch = async () =>
    (await db.query('select current_batch from pgq.get_consumer_info($1, $1)', [name])).rows[0]
      ?.current_batch;
  return { proc, count, openBatch, config, keys };
}

describe('simple_consumer signals', () => {
  it('SIGINT finishes the batch in hand, then exits 0', async () => {
    const job = await midBatch('sig_int');
    job.proc.signal('SIGINT');
    expect(await job.proc.exited).toBe(0);
    expect(await job.count()).toBe(events);
    expect(await job.openBatch()).toBeNull();
  });

  it('SIGTERM leaves the batch unfinished (delivered again), exits 1', async () => {
    const job = await midBatch('sig_term');
    job.proc.signal('SIGTERM');
    expect(await job.proc.exited).toBe(1);
    expect(await job.count()).toBeLessThan(events);
    expect(await job.openBatch()).not.toBeNull();
  });

  it('SIGHUP: the re-read file applies from the next batch; a bad file is refused', async () => {
    const job = await midBatch('sig_hup');
    writeFileSync(
      job.config,
      `[simple_consumer]\n${Object.entries({
        ...job.keys,
        dst_query: "insert into sig_hup_dst values (%%(id)s, 'second')",
      })
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n')}\n`,
    );
    job.proc.signal('SIGHUP');
    await job.proc.waitFor(/Got SIGHUP, re-reading config/);
    await poll(job.count, (n) => n >= events);
    await db.query("select pgq.insert_event('sig_hup', 'I:id', 'id=100')");
    await poll(
      async () => {
        await tick(db, 'sig_hup');
        return (await db.query("select id from sig_hup_dst where tag = 'second'")).rows;
      },
      (rows) => rows.length > 0,
    );
    const tags = await db.query('select tag, count(*)::int as n from sig_hup_dst group by 1');
    expect(Object.fromEntries(tags.rows.map((r) => [r.tag, r.n]))).toEqual({
      first: events,
      second: 1,
    });
    writeFileSync(job.config, '[simple_consumer]\nqueue_name = sig_hup\n');
    job.proc.signal('SIGHUP');
    await job.proc.waitFor(
      /reload failed, keeping the old config: .*missing required key "dst_query"/,
    );
    job.proc.signal('SIGINT');
    expect(await job.proc.exited).toBe(0);
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick } from '../pgq-lib/helpers.js';
import { libpq, poll, useJobs } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();

const count = async () =>
  Number((await db.query('select count(*) as n from dst_local')).rows[0]?.n);
const lastTick = async () =>
  Number(
    (await db.query("select last_tick from pgq.get_consumer_info('q_local', 'local_job')")).rows[0]
      ?.last_tick,
  );

describe('simple_local_consumer', () => {
  it('keeps its position in local_tracking_file, and the file wins over the queue', async () => {
    await makeQueue(db, 'q_local');
    await register(db, 'q_local', 'local_job');
    await db.query('create table dst_local (id int, ev_id bigint)');
    const tracking = path.join(jobs.dir, 'local_job.tick');
    const config = jobs.writeConfig('local_job', 'simple_local_consumer3', {
      src_db: libpq(db.config()),
      queue_name: 'q_local',
      dst_query: 'insert into dst_local values (%%(id)s, %%(pgq.ev_id)s)',
      local_tracking_file: tracking,
      loop_delay: 0.1,
      exception_sleep: 0.3,
    });
    const startTick = await lastTick();
    const proc = jobs.start('simple_local_consumer', [config]);
    await proc.waitFor(/local_job\.tick started at tick \d+/);
    expect(Number(readFileSync(tracking, 'utf8'))).toBe(startTick);
    for (let i = 1; i <= 3; i++) {
      await db.query("select pgq.insert_event('q_local', 'I:id', $1)", [`id=${i}`]);
    }
    await poll(
      async () => {
        await tick(db, 'q_local');
        return count();
      },
      (n) => n >= 3,
    );
    await proc.waitFor(/\{count: 3, duration/);
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
    const done = await lastTick();
    expect(Number(readFileSync(tracking, 'utf8'))).toBe(done);

    // Put the file back to the start: the next run moves the queue there and does the work again.
    writeFileSync(tracking, `${startTick}\n`);
    const rewind = await jobs.run('simple_local_consumer', [config, '--rewind']);
    expect(rewind.code).toBe(0);
    expect(rewind.stderr).toContain(`consumer moved from tick ${done} to tick ${startTick}`);
    expect(await lastTick()).toBe(startTick);
    const again = jobs.start('simple_local_consumer', [config]);
    await poll(count, (n) => n >= 6);
    again.signal('SIGINT');
    expect(await again.exited).toBe(0);
    expect(await count()).toBe(6);

    const reset = await jobs.run('simple_local_consumer', [config, '--reset']);
    expect(reset).toMatchObject({ code: 0, stdout: `removed ${tracking}` });
    expect(existsSync(tracking)).toBe(false);
  });

  it('refuses a missing or unusable local_tracking_file', async () => {
    const base = {
      src_db: libpq(db.config()),
      queue_name: 'q_local',
      dst_query: 'select 1',
    };
    const none = jobs.writeConfig('no_tracking', 'simple_local_consumer', base);
    const a = await jobs.run('simple_local_consumer', [none]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('missing required key "local_tracking_file"');
    const garbage = path.join(jobs.dir, 'garbage.tick');
    writeFileSync(garbage, 'not a tick\n');
    const bad = jobs.writeConfig('local_job', 'simple_local_consumer', {
      ...base,
      local_tracking_file: garbage,
    });
    const b = await jobs.run('simple_local_consumer', [bad]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`${garbage} holds no tick id ("not a tick")`);
  });
});

import { describe, expect, it } from 'vitest';
import { runQueueMover } from '../../src/cli/queue-mover.js';
import { runQueueSplitter } from '../../src/cli/queue-splitter.js';
import { libpq, poll, useJobs } from '../consumers/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick } from '../pgq-lib/helpers.js';
import { type OtherDb, otherDatabase, queueEvents, runHere, tickUntil } from './helpers.js';

// `npm run test:stress` (SKYTOOLS_STRESS=1) runs the long form of the random kills: 20 kills,
// 200 events each.
const stress = process.env.SKYTOOLS_STRESS === '1';
const stressTimeout = stress ? 900_000 : undefined;
const db = useTestDatabase();
const jobs = useJobs();

async function insert(
  queue: string,
  type: string,
  data: string | null,
  ...extras: (string | null)[]
) {
  await db.query('select pgq.insert_event($1, $2, $3, $4, $5, $6, $7)', [
    queue,
    type,
    data,
    extras[0] ?? null,
    extras[1] ?? null,
    extras[2] ?? null,
    extras[3] ?? null,
  ]);
}

function moverKeys(queue: string, dst: OtherDb, extra: Record<string, string | number> = {}) {
  return {
    src_db: libpq(db.config()),
    dst_db: dst.libpq,
    queue_name: queue,
    loop_delay: 0.1,
    exception_sleep: 0.3,
    ...extra,
  };
}

const fields = (e: {
  ev_time: string;
  ev_type: unknown;
  ev_data: unknown;
  ev_extra1: unknown;
  ev_extra2: unknown;
  ev_extra3: unknown;
  ev_extra4: unknown;
}) => [e.ev_time, e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4];

describe('queue_mover', () => {
  it('copies every event with type, data, extras and time into dst_queue_name', async () => {
    const dst = await otherDatabase(db, 'mv_dst');
    await makeQueue(db, 'mv_src');
    await makeQueue(dst, 'mv_dst');
    const config = jobs.writeConfig('mv_job', 'queue_mover3', {
      ...moverKeys('mv_src', dst),
      dst_queue_name: 'mv_dst',
    });
    const reg = await runHere(runQueueMover, [config, '--register']);
    expect(reg.stdout, reg.stderr).toContain('registered consumer "mv_job" on queue "mv_src"');
    const proc = jobs.start('queue_mover', [config]);
    await proc.waitFor(/starting: consumer mv_job on queue mv_src/);
    await insert('mv_src', 'I:id', 'id=1&name=first', 'public.t', 'x2', null, 'x4');
    await insert('mv_src', 'my.type', 'tab\there\nnewline \\ backslash', null, null, 'e3');
    await insert('mv_src', 'null.data', null);
    await insert('mv_src', 'unicode', 'café ☕ "quoted"', 'ünï');
    await tickUntil(db, 'mv_src', async () => (await queueEvents(dst, 'mv_dst')).length >= 4);
    const source = await queueEvents(db, 'mv_src');
    const copied = await queueEvents(dst, 'mv_dst');
    expect(copied.map(fields)).toEqual(source.map(fields));
    await proc.waitFor(/\{count: \d+, duration/);
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
    const last = await dst.query("select pgq_ext.get_last_tick('mv_job', '') as t");
    const sub = await db.query(
      "select last_tick, current_batch from pgq.get_consumer_info('mv_src', 'mv_job')",
    );
    expect(sub.rows[0]?.current_batch).toBeNull();
    expect(String(last.rows[0]?.t)).toBe(String(sub.rows[0]?.last_tick));
  });

  it('killed between the dst_db commit and finishing the source batch: restarted, the batch is only finished', async () => {
    const dst = await otherDatabase(db, 'kill_dst');
    await makeQueue(db, 'kill_src');
    await makeQueue(dst, 'kill_dst');
    // A trigger on the target queue's tables holds the copy until the test lets it go.
    await dst.query(`create function public.hold_copy() returns trigger language plpgsql as $$
      begin perform pg_advisory_lock(4242); perform pg_advisory_unlock(4242); return new; end $$`);
    const tables = await dst.query<{ t: string }>(
      "select format('%I.%I', schemaname, tablename) as t from pg_tables where schemaname = 'pgq' and tablename like 'event\\_%\\_%'",
    );
    for (const { t } of tables.rows) {
      await dst.query(
        `create trigger hold before insert on ${t} for each row execute function public.hold_copy()`,
      );
    }
    const config = jobs.writeConfig('kill_job', 'queue_mover', {
      ...moverKeys('kill_src', dst),
      dst_queue_name: 'kill_dst',
    });
    expect((await runHere(runQueueMover, [config, '--register'])).code).toBe(0);
    const holder = await dst.pool.connect();
    const blocker = await db.pool().connect();
    try {
      await holder.query('select pg_advisory_lock(4242)');
      const proc = jobs.start('queue_mover', [config]);
      await proc.waitFor(/starting: consumer kill_job/);
      for (let i = 1; i <= 5; i++) await insert('kill_src', 'n', `n=${i}`);
      await tick(db, 'kill_src');
      // The copy waits in the trigger, the batch is taken: now hold finish_batch too.
      await poll(
        () => dst.query("select 1 from pg_locks where locktype = 'advisory' and not granted"),
        (r) => (r.rowCount ?? 0) > 0,
      );
      await blocker.query('begin');
      await blocker.query(
        "select 1 from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer where c.co_name = 'kill_job' for update of s",
      );
      await holder.query('select pg_advisory_unlock(4242)');
      const { rows: batch } = await db.query<{ tick: string }>(
        "select next_tick::text as tick from pgq.get_consumer_info('kill_src', 'kill_job')",
      );
      await poll(
        () =>
          dst.query<{ t: string | null }>(
            "select pgq_ext.get_last_tick('kill_job', '')::text as t",
          ),
        (r) => r.rows[0]?.t === batch[0]?.tick,
      );
      proc.child.kill('SIGKILL');
      await proc.exited;
      // The killed process's session would finish the batch once the lock goes: end it.
      await db.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'queue_mover kill_job%'",
      );
      await blocker.query('rollback');
    } finally {
      holder.release();
      blocker.release();
    }
    const open = await db.query(
      "select current_batch from pgq.get_consumer_info('kill_src', 'kill_job')",
    );
    expect(open.rows[0]?.current_batch).not.toBeNull();
    const again = jobs.start('queue_mover', [config]);
    await again.waitFor(/is in dst_db already .*finished only/);
    await poll(
      () => db.query("select current_batch from pgq.get_consumer_info('kill_src', 'kill_job')"),
      (r) => r.rows[0]?.current_batch === null,
    );
    await insert('kill_src', 'n', 'n=6');
    await tickUntil(db, 'kill_src', async () => (await queueEvents(dst, 'kill_dst')).length >= 6);
    again.signal('SIGINT');
    expect(await again.exited).toBe(0);
    const data = (await queueEvents(dst, 'kill_dst')).map((e) => e.ev_data);
    expect(data).toEqual(['n=1', 'n=2', 'n=3', 'n=4', 'n=5', 'n=6']);
  });

  it(
    'kill -9 at random points while events flow: every event once in dst',
    async () => {
      const dst = await otherDatabase(db, 'flow_dst');
      await makeQueue(db, 'flow_src');
      await makeQueue(dst, 'flow_dst');
      const config = jobs.writeConfig('flow_job', 'queue_mover', {
        ...moverKeys('flow_src', dst),
        dst_queue_name: 'flow_dst',
      });
      expect((await runHere(runQueueMover, [config, '--register'])).code).toBe(0);
      const kills = stress ? 20 : 1;
      const batches = stress ? 5 : 3;
      let produced = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++) {
          produced++;
          await insert('flow_src', 'n', `n=${produced}`);
        }
        await tick(db, 'flow_src');
      };
      for (let round = 0; round < kills; round++) {
        const proc = jobs.start('queue_mover', [config]);
        await proc.waitFor(/starting: consumer flow_job/);
        const target = produced;
        for (let b = 0; b < batches; b++) await produce(40);
        // Kill once some of this round's batches are in dst, the rest still coming.
        await poll(
          async () => (await queueEvents(dst, 'flow_dst')).length,
          (n) => n > target,
        );
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
      const last = jobs.start('queue_mover', [config]);
      // Its signal handlers are in place once it says so; the rest may all be in dst already.
      await last.waitFor(/starting: consumer flow_job/);
      await tickUntil(
        db,
        'flow_src',
        async () => (await queueEvents(dst, 'flow_dst')).length >= produced,
      );
      last.signal('SIGINT');
      expect(await last.exited).toBe(0);
      const data = (await queueEvents(dst, 'flow_dst')).map((e) => e.ev_data);
      expect(data).toHaveLength(produced);
      expect(new Set(data).size).toBe(produced);
    },
    stressTimeout,
  );

  it('--reset clears the tracking in dst_db, --rewind puts the consumer at its tick, --register clears it', async () => {
    const dst = await otherDatabase(db, 'rw_dst');
    await makeQueue(db, 'rw_src');
    await makeQueue(dst, 'rw_dst');
    const config = jobs.writeConfig('rw_job', 'queue_mover', {
      ...moverKeys('rw_src', dst),
      dst_queue_name: 'rw_dst',
    });
    expect((await runHere(runQueueMover, [config, '--register'])).code).toBe(0);
    const noTick = await runHere(runQueueMover, [config, '--rewind']);
    expect(noTick.code).toBe(1);
    expect(noTick.stderr).toContain('the target database tracks no tick for it');
    const proc = jobs.start('queue_mover', [config]);
    await insert('rw_src', 'n', 'n=1');
    await tickUntil(db, 'rw_src', async () => (await queueEvents(dst, 'rw_dst')).length >= 1);
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
    const tracked = await dst.query<{ t: string }>(
      "select pgq_ext.get_last_tick('rw_job', '')::text as t",
    );
    const rewind = await runHere(runQueueMover, [config, '--rewind']);
    expect(rewind.stdout, rewind.stderr).toContain(
      `consumer rw_job is at tick ${tracked.rows[0]?.t}`,
    );
    const reset = await runHere(runQueueMover, [config, '--reset']);
    expect(reset.stdout).toContain('cleared the tick tracking of consumer rw_job in dst_db');
    const cleared = await dst.query("select pgq_ext.get_last_tick('rw_job', '') as t");
    expect(cleared.rows[0]?.t).toBeNull();
    await dst.query("select pgq_ext.set_last_tick('rw_job', '', 12345)");
    const again = await runHere(runQueueMover, [config, '--register']);
    expect(again.stdout).toContain('consumer "rw_job" on queue "rw_src" was already registered');
    const fresh = await dst.query("select pgq_ext.get_last_tick('rw_job', '') as t");
    expect(fresh.rows[0]?.t).toBeNull();
  });
});

describe('queue_splitter', () => {
  it('routes each event into the dst_db queue named by queue_field', async () => {
    const dst = await otherDatabase(db, 'sp_dst');
    await makeQueue(db, 'sp_src');
    await makeQueue(dst, 'sp_a');
    await makeQueue(dst, 'sp_b');
    const config = jobs.writeConfig('sp_job', 'queue_splitter3', {
      ...moverKeys('sp_src', dst),
      queue_field: 'ev_extra2',
    });
    expect((await runHere(runQueueSplitter, [config, '--register'])).code).toBe(0);
    const proc = jobs.start('queue_splitter', [config]);
    await insert('sp_src', 't1', 'a1', 'x', 'sp_a');
    await insert('sp_src', 't2', 'b1', null, 'sp_b', 'e3');
    await insert('sp_src', 't3', 'a2', null, 'sp_a', null, 'e4');
    await tick(db, 'sp_src');
    await insert('sp_src', 't4', 'b2', null, 'sp_b');
    await tickUntil(db, 'sp_src', async () => (await queueEvents(dst, 'sp_b')).length >= 2);
    const source = await queueEvents(db, 'sp_src');
    expect((await queueEvents(dst, 'sp_a')).map(fields)).toEqual(
      source.filter((e) => e.ev_extra2 === 'sp_a').map(fields),
    );
    expect((await queueEvents(dst, 'sp_b')).map(fields)).toEqual(
      source.filter((e) => e.ev_extra2 === 'sp_b').map(fields),
    );
    // A queue dst_db does not have: the job stops naming it, nothing of the batch copied.
    await insert('sp_src', 't5', 'a3', null, 'sp_a');
    await insert('sp_src', 't6', 'c1', null, 'sp_missing');
    await tick(db, 'sp_src');
    expect(await proc.exited).toBe(1);
    const errors = proc.lines.filter((line) => / ERROR /.test(line));
    expect(errors.at(-1)).toMatch(
      /Job sp_job stopped: routing events to queue "sp_missing" in dst_db \(batch \d+\): Event queue not found$/,
    );
    expect(await queueEvents(dst, 'sp_a')).toHaveLength(2);
  });

  it('an event without a queue name stops the job naming the event', async () => {
    const dst = await otherDatabase(db, 'spn_dst');
    await makeQueue(db, 'spn_src');
    const config = jobs.writeConfig('spn_job', 'queue_splitter', moverKeys('spn_src', dst));
    await register(db, 'spn_src', 'spn_job');
    await insert('spn_src', 't', 'd', null);
    await tick(db, 'spn_src');
    const run = await runHere(runQueueSplitter, [config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /Job spn_job stopped: event \d+ has no queue name in extra1 \(queue_field\): it cannot be routed/,
    );
  });
});

describe('queue_mover and queue_splitter bad input', () => {
  it('malformed INI, missing keys, bad queue_field, retry keys: one clear line, exit 1', async () => {
    const { writeFileSync } = await import('node:fs');
    const path = await import('node:path');
    const broken = path.join(jobs.dir, 'broken_mv.ini');
    writeFileSync(broken, '[queue_mover]\nqueue_name = q\n[oops\n');
    const malformed = await runHere(runQueueMover, [broken]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr.trim().split('\n')).toHaveLength(1);
    expect(malformed.stderr).toContain(`${broken}:3:`);
    const noDst = jobs.writeConfig('nodst', 'queue_mover', { queue_name: 'q', dst_db: 'dbname=x' });
    const missing = await runHere(runQueueMover, [noDst]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[queue_mover] missing required key "dst_queue_name"');
    const badField = jobs.writeConfig('badfield', 'queue_splitter', {
      queue_name: 'q',
      dst_db: 'dbname=x',
      queue_field: 'extra9',
    });
    const field = await runHere(runQueueSplitter, [badField]);
    expect(field.code).toBe(1);
    expect(field.stderr).toContain(
      'queue_field must be one of type, data, extra1, extra2, extra3, extra4',
    );
    const retry = jobs.writeConfig('retrymv', 'queue_mover', {
      queue_name: 'q',
      dst_db: 'dbname=x',
      dst_queue_name: 'q',
      max_retries: 3,
    });
    const noRetry = await runHere(runQueueMover, [retry]);
    expect(noRetry.code).toBe(1);
    expect(noRetry.stderr).toContain('max_retries is not supported by queue_mover');
    const sample = await runHere(runQueueSplitter, ['--ini']);
    expect(sample.stdout).toMatch(/^\[queue_splitter\]/);
  });

  it('unknown source queue, unknown dst queue: the job says so and exits 1', async () => {
    const dst = await otherDatabase(db, 'bad_dst');
    const noQueue = jobs.writeConfig('nosrcq', 'queue_mover', {
      ...moverKeys('missing_src', dst),
      dst_queue_name: 'x',
    });
    const a = await runHere(runQueueMover, [noQueue]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('Job nosrcq stopped: queue "missing_src" does not exist');
    await makeQueue(db, 'bad_src');
    const noDstQueue = jobs.writeConfig('nodstq', 'queue_mover', {
      ...moverKeys('bad_src', dst),
      dst_queue_name: 'missing_dst',
    });
    expect((await runHere(runQueueMover, [noDstQueue, '--register'])).code).toBe(0);
    await insert('bad_src', 't', 'd');
    await tick(db, 'bad_src');
    const run = await runHere(runQueueMover, [noDstQueue]);
    expect(run.code).toBe(1);
    const errors = run.stderr.split('\n').filter((line) => / ERROR /.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /Job nodstq stopped: copying events to queue "missing_dst" in dst_db \(batch \d+\): Event queue not found$/,
    );
  });

  it('an unreachable dst_db: each try logs one crash line naming it, the batch stays open', async () => {
    await makeQueue(db, 'unr_src');
    const config = jobs.writeConfig('unr_job', 'queue_mover', {
      src_db: libpq(db.config()),
      dst_db: 'host=127.0.0.1 port=1 dbname=nowhere connect_timeout=2',
      queue_name: 'unr_src',
      dst_queue_name: 'x',
      loop_delay: 0.1,
      exception_sleep: 0.2,
    });
    await register(db, 'unr_src', 'unr_job');
    const proc = jobs.start('queue_mover', [config]);
    await insert('unr_src', 't', 'd');
    await tick(db, 'unr_src');
    const line = await proc.waitFor(/Job unr_job crashed: /);
    expect(line).toMatch(/dst_db.*127\.0\.0\.1:1/);
    await poll(
      async () => proc.lines.filter((l) => l.includes('Job unr_job crashed: ')).length,
      (n) => n >= 2,
    );
    const open = await db.query(
      "select current_batch from pgq.get_consumer_info('unr_src', 'unr_job')",
    );
    expect(open.rows[0]?.current_batch).not.toBeNull();
    proc.signal('SIGTERM');
    expect(await proc.exited).toBe(1);
  });
});

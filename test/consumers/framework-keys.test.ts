/**
 * The framework keys in real simple_consumer processes: per-event retry with max_retries and
 * dead_letter_queue, exception_quiet's warnings, connection_lifetime's reopened sessions, and
 * the --ini samples that list them.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick } from '../pgq-lib/helpers.js';
import { libpq, poll, useJobs } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();

async function insert(queue: string, id: number): Promise<void> {
  await db.query("select pgq.insert_event($1, 'I:id', $2)", [queue, `id=${id}`]);
}

/** Tick (and move due retries back into the queue) until `check` passes. */
async function tickUntil(queue: string, check: () => Promise<boolean>): Promise<void> {
  await poll(
    async () => {
      await db.query('select pgq.maint_retry_events()');
      await tick(db, queue);
      return check();
    },
    (ok) => ok,
  );
}

async function queueData(queue: string): Promise<string[]> {
  const { rows } = await db.query<{ pfx: string }>(
    'select queue_data_pfx as pfx from pgq.queue where queue_name = $1',
    [queue],
  );
  const events = await db.query<{ ev_data: string }>(
    `select ev_data from ${rows[0]?.pfx} order by ev_id`,
  );
  return events.rows.map((r) => r.ev_data);
}

async function setup(queue: string, table: string): Promise<void> {
  await makeQueue(db, queue);
  await register(db, queue, `${queue}_job`);
  // Negative ids fail the check: the event that dst_query cannot apply.
  await db.query(`create table ${table} (id int check (id > 0), ev_id bigint)`);
}

const base = (queue: string, table: string) => ({
  src_db: libpq(db.config()),
  queue_name: queue,
  dst_query: `insert into ${table} values (%%(id)s, %%(pgq.ev_id)s)`,
  loop_delay: 0.1,
  exception_sleep: 0.2,
});

describe('consumer job framework keys', () => {
  it('max_retries and dead_letter_queue: a failing event is retried, then dead-lettered', async () => {
    await setup('q_dlq', 'dst_dlq');
    await makeQueue(db, 'q_dlq_failed');
    const config = jobs.writeConfig('q_dlq_job', 'simple_consumer', {
      ...base('q_dlq', 'dst_dlq'),
      retry_delay: 0,
      max_retries: 1,
      dead_letter_queue: 'q_dlq_failed',
    });
    const proc = jobs.start('simple_consumer', [config]);
    await proc.waitFor(/starting: consumer q_dlq_job/);
    for (const id of [1, -2, 3]) await insert('q_dlq', id);
    await tickUntil('q_dlq', async () => (await queueData('q_dlq_failed')).length > 0);
    const { rows } = await db.query<{ id: number }>('select id from dst_dlq order by id');
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
    expect(await queueData('q_dlq_failed')).toEqual(['id=-2']);
    await proc.waitFor(/\{count: 3, retry-events: 1, duration/);
    await proc.waitFor(/\{count: 1, dead-letters: 1, duration/);
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
  });

  it('max_retries without a dead-letter queue: the job stops naming the event', async () => {
    await setup('q_max', 'dst_max');
    const config = jobs.writeConfig('q_max_job', 'simple_consumer', {
      ...base('q_max', 'dst_max'),
      retry_delay: 0,
      max_retries: 0,
    });
    const proc = jobs.start('simple_consumer', [config]);
    await proc.waitFor(/starting: consumer q_max_job/);
    await insert('q_max', -7);
    await tickUntil('q_max', async () => proc.child.exitCode !== null);
    expect(await proc.exited).toBe(1);
    const stopped = proc.lines.find((line) => / Job q_max_job stopped: /.test(line));
    expect(stopped).toMatch(
      /Job q_max_job stopped: event \d+ of batch \d+ failed after 0 retries \(max 0\): dst_query failed for event \d+: new row for relation "dst_max" violates check constraint/,
    );
  });

  it('exception_quiet: after the first failure, listed errors are one-line warnings', async () => {
    await makeQueue(db, 'q_quiet');
    await register(db, 'q_quiet', 'q_quiet_job');
    const config = jobs.writeConfig('q_quiet_job', 'simple_consumer', {
      ...base('q_quiet', 'no_such_table'),
      exception_quiet: '42P01',
      unknown_thing: 1,
    });
    const proc = jobs.start('simple_consumer', [config]);
    await proc.waitFor(/starting: consumer q_quiet_job/);
    await insert('q_quiet', 1);
    await tick(db, 'q_quiet');
    await proc.waitFor(/WARNING .*Job q_quiet_job crashed: /);
    proc.signal('SIGTERM');
    await proc.exited;
    const lines = proc.lines.map((line) => line.replace(/^std(out|err):/, ''));
    const crashes = lines.filter((line) => / Job q_quiet_job crashed: /.test(line));
    expect(crashes[0]).toMatch(
      / ERROR .*crashed: dst_query failed for event \d+: relation "no_such_table" does not exist/,
    );
    // The first, loud one carries its stack on the following lines.
    const after = lines[lines.indexOf(crashes[0] as string) + 1];
    expect(after).toMatch(/^ {4}at /);
    expect(crashes.slice(1).every((line) => / WARNING /.test(line))).toBe(true);
    // The new keys are known; others are still reported.
    expect(lines.filter((line) => /unknown key/.test(line))).toEqual([
      expect.stringMatching(
        / WARNING .*q_quiet_job\.ini:\d+: \[simple_consumer\] unknown key "unknown_thing" ignored$/,
      ),
    ]);
  });

  it('connection_lifetime: the consumer and dst_db sessions are reopened', async () => {
    await makeQueue(db, 'q_life');
    await register(db, 'q_life', 'q_life_job');
    await db.query('create table dst_life (id int, pid int)');
    const config = jobs.writeConfig('q_life_job', 'simple_consumer', {
      src_db: libpq(db.config()),
      queue_name: 'q_life',
      dst_query: 'insert into dst_life values (%%(id)s, pg_backend_pid())',
      loop_delay: 0.05,
      connection_lifetime: 0.4,
    });
    const lockHolder = async () =>
      (
        await db.query<{ pid: number }>(
          `select l.pid from pg_locks l join pg_stat_activity a using (pid)
            where l.locktype = 'advisory' and l.granted and a.application_name = 'simple_consumer q_life_job'`,
        )
      ).rows[0]?.pid;
    const dstPid = async (id: number) =>
      (await db.query<{ pid: number }>('select pid from dst_life where id = $1', [id])).rows[0]
        ?.pid;
    const proc = jobs.start('simple_consumer', [config]);
    await proc.waitFor(/starting: consumer q_life_job/);
    await insert('q_life', 1);
    await tickUntil('q_life', async () => (await dstPid(1)) !== undefined);
    const consumerPid = await poll(lockHolder, (pid) => pid !== undefined);
    await poll(lockHolder, (pid) => pid !== undefined && pid !== consumerPid);
    // Past the lifetime of the dst_db session too (a wait, nothing timed).
    await new Promise((resolve) => setTimeout(resolve, 500));
    await insert('q_life', 2);
    await tickUntil('q_life', async () => (await dstPid(2)) !== undefined);
    expect(await dstPid(2)).not.toBe(await dstPid(1));
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
  });

  it('--ini lists the new keys commented out with their defaults', async () => {
    const simple = await jobs.run('simple_consumer', ['--ini']);
    for (const line of [
      '#exception_quiet =',
      '#exception_grace = 300',
      '#exception_reset = 900',
      '#connection_lifetime = 1200',
      '#keepalive_stats = 300',
      '#retry_delay = 60',
      '#max_retries = 5',
      '#dead_letter_queue = orders_failed',
    ]) {
      expect(simple.stdout.split('\n')).toContain(line);
    }
    const local = await jobs.run('simple_local_consumer', ['--ini']);
    expect(local.stdout).toContain('#connection_lifetime = 1200');
    expect(local.stdout).toContain('#keepalive_stats = 300');
    expect(local.stdout).not.toContain('max_retries');
  });
});

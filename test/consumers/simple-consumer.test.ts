import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick } from '../pgq-lib/helpers.js';
import { libpq, poll, useJobs } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();

async function insert(queue: string, type: string, data: string | null, extra1?: string) {
  await db.query('select pgq.insert_event($1, $2, $3, $4, null, null, null)', [
    queue,
    type,
    data,
    extra1 ?? null,
  ]);
}

async function rows(table: string): Promise<Record<string, unknown>[]> {
  return (await db.query(`select * from ${table} order by 1, 2`)).rows;
}

/** Tick until `check` passes: a batch may be read before all of its events were ticked. */
async function tickUntil(queue: string, check: () => Promise<boolean>) {
  await poll(
    async () => {
      await tick(db, queue);
      return check();
    },
    (ok) => ok,
  );
}

function baseKeys(queue: string, table: string) {
  return {
    src_db: libpq(db.config()),
    queue_name: queue,
    dst_query: `insert into ${table} (id, name, ev_id, ev_type) values (%%(id)s, %%(name)s, %%(pgq.ev_id)s, %%(pgq.ev_type)s)`,
    loop_delay: 0.1,
    exception_sleep: 0.3,
  };
}

describe('simple_consumer', () => {
  it('runs dst_query once per row event with the payload fields as parameters', async () => {
    await makeQueue(db, 'q_rows');
    await db.query('create table dst_rows (id int, name text, ev_id bigint, ev_type text)');
    const config = jobs.writeConfig('rows_job', 'simple_consumer3', {
      ...baseKeys('q_rows', 'dst_rows'),
      dst_db: libpq(db.config()),
    });
    const reg = await jobs.run('simple_consumer', [config, '--register']);
    expect(reg).toMatchObject({ code: 0 });
    expect(reg.stdout).toContain('registered consumer "rows_job" on queue "q_rows"');
    const proc = jobs.start('simple_consumer', [config]);
    await proc.waitFor(/starting: consumer rows_job on queue q_rows/);
    await insert('q_rows', 'I:id', 'id=1&name=first+one');
    await insert('q_rows', 'U:id', 'id=2&name=caf%C3%A9');
    await insert('q_rows', 'I:id', '{"id": 3, "name": "json row"}');
    await insert('q_rows', 'D:id', 'id=4&name');
    await insert('q_rows', 'other.type', 'not a row');
    await tickUntil('q_rows', async () => (await rows('dst_rows')).length >= 4);
    const got = await rows('dst_rows');
    expect(got.map((r) => [r.id, r.name, r.ev_type])).toEqual([
      [1, 'first one', 'I:id'],
      [2, 'café', 'U:id'],
      [3, 'json row', 'I:id'],
      [4, null, 'D:id'],
    ]);
    const line = await proc.waitFor(/ignored: 1/);
    expect(line).toMatch(
      /INFO \[queue=q_rows consumer=rows_job job=rows_job\] \{count: 5, ignored: 1, duration: [\d.]+\}/,
    );
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
    expect(proc.lines.join('\n')).toContain('Got SIGINT, stopping after the current batch');
    const pending = await db.query(
      "select current_batch from pgq.get_consumer_info('q_rows', 'rows_job')",
    );
    expect(pending.rows[0]?.current_batch).toBeNull();
  });

  it('--set overrides the file; json log lines name job, queue and consumer', async () => {
    await makeQueue(db, 'q_set');
    await db.query('create table dst_set (id int, name text, ev_id bigint, ev_type text)');
    const config = jobs.writeConfig('set_job', 'simple_consumer', {
      ...baseKeys('no_such_queue', 'dst_set'),
    });
    const overrides = ['--set', 'queue_name=q_set', '--set', 'consumer_name=renamed'];
    expect((await jobs.run('simple_consumer', [config, ...overrides, '--register'])).code).toBe(0);
    const info = await db.query("select consumer_name from pgq.get_consumer_info('q_set')");
    expect(info.rows).toEqual([{ consumer_name: 'renamed' }]);
    const proc = jobs.start('simple_consumer', [config, ...overrides, '--log-format', 'json']);
    await insert('q_set', 'I:id', 'id=7&name=seven');
    await tickUntil('q_set', async () => (await rows('dst_set')).length >= 1);
    const stats = JSON.parse((await proc.waitFor(/count: 1,/)).slice('stderr:'.length));
    expect(stats).toMatchObject({ job: 'set_job', queue: 'q_set', consumer: 'renamed' });
    expect(stats.msg).toMatch(/^\{count: 1, duration: [\d.]+\}$/);
    proc.signal('SIGINT');
    expect(await proc.exited).toBe(0);
    const sample = await jobs.run('simple_consumer', ['--ini', '--set', 'queue_name=abc']);
    expect(sample.code).toBe(0);
    expect(sample.stdout).toMatch(/^\[simple_consumer\]/);
    expect(sample.stdout).toMatch(/^queue_name = abc$/m);
  });

  it('a failing dst_query crashes the batch, which is tried again after exception_sleep', async () => {
    await makeQueue(db, 'q_fail');
    await register(db, 'q_fail', 'fail_job');
    const config = jobs.writeConfig('fail_job', 'simple_consumer', baseKeys('q_fail', 'dst_fail'));
    const proc = jobs.start('simple_consumer', [config]);
    for (let i = 1; i <= 3; i++) await insert('q_fail', 'I:id', `id=${i}&name=n${i}`);
    await tick(db, 'q_fail');
    await proc.waitFor(
      /ERROR .*Job fail_job crashed: dst_query failed for event \d+: relation "dst_fail" does not exist/,
    );
    // The batch is still open: nothing acknowledged.
    const open = await db.query(
      "select current_batch from pgq.get_consumer_info('q_fail', 'fail_job')",
    );
    expect(open.rows[0]?.current_batch).not.toBeNull();
    await db.query('create table dst_fail (id int, name text, ev_id bigint, ev_type text)');
    await poll(
      () => rows('dst_fail'),
      (got) => got.length >= 3,
    );
    expect((await rows('dst_fail')).map((r) => r.id)).toEqual([1, 2, 3]);
    await proc.waitFor(/\{count: 3, duration/);
    proc.signal('SIGTERM');
    expect(await proc.exited).toBe(1);
  });

  it('-d with pidfile: refuses a second start, -r reloads, -s stops, -k kills', async () => {
    await makeQueue(db, 'q_daemon');
    await register(db, 'q_daemon', 'daemon_job');
    await db.query('create table dst_daemon (id int, name text, ev_id bigint, ev_type text)');
    const pidfile = path.join(jobs.dir, 'daemon_job.pid');
    const logfile = path.join(jobs.dir, 'daemon_job.log');
    const config = jobs.writeConfig('daemon_job', 'simple_consumer', {
      ...baseKeys('q_daemon', 'dst_daemon'),
      pidfile,
      logfile,
    });
    const started = await jobs.run('simple_consumer', [config, '-d']);
    expect(started).toMatchObject({ code: 0 });
    const pid = Number(readFileSync(pidfile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    const second = await jobs.run('simple_consumer', [config, '-d']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('Pidfile exists, another process running?');
    await insert('q_daemon', 'I:id', 'id=1&name=a');
    await tickUntil('q_daemon', async () => (await rows('dst_daemon')).length >= 1);
    expect((await jobs.run('simple_consumer', [config, '-r'])).code).toBe(0);
    await poll(
      async () => readFileSync(logfile, 'utf8'),
      (text) => text.includes('Got SIGHUP, re-reading config'),
    );
    const stop = await jobs.run('simple_consumer', [config, '-s']);
    expect(stop).toMatchObject({ code: 0, stdout: 'SIGINT sent' });
    await poll(
      async () => existsSync(pidfile),
      (exists) => !exists,
    );
    expect(readFileSync(logfile, 'utf8')).toContain('simple_consumer stopped');
    const again = await jobs.run('simple_consumer', [config, '-s']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('No pidfile, process not running');
    expect((await jobs.run('simple_consumer', [config, '-d'])).code).toBe(0);
    expect((await jobs.run('simple_consumer', [config, '-k'])).stdout).toBe('SIGTERM sent');
    await poll(
      async () => existsSync(pidfile),
      (exists) => !exists,
    );
    expect(readFileSync(logfile, 'utf8')).toContain('Got SIGTERM, stopping at once');
    const nopid = jobs.writeConfig('nopid', 'simple_consumer', baseKeys('q_daemon', 'dst_daemon'));
    const refused = await jobs.run('simple_consumer', [nopid, '-d']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Daemon needs pidfile');
  });
});

describe('skytools simple_consumer', () => {
  it('runs the same code as the bin', async () => {
    const skytools = path.resolve(import.meta.dirname, '../../bin/skytools.js');
    for (const tool of ['simple_consumer', 'simple_local_consumer'] as const) {
      const viaSkytools = execFileSync(process.execPath, [skytools, tool, '--ini'], {
        encoding: 'utf8',
      });
      expect(viaSkytools).toBe(`${(await jobs.run(tool, ['--ini'])).stdout}\n`);
      expect(viaSkytools).toMatch(new RegExp(`^\\[${tool}\\]`));
    }
  });
});

describe('simple_consumer bad input', () => {
  it('malformed INI, unknown option, bad --set, missing keys: clear errors, exit 1', async () => {
    const broken = path.join(jobs.dir, 'broken.ini');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(broken, '[simple_consumer]\nqueue_name = q\nthis line has no equals sign\n');
    const malformed = await jobs.run('simple_consumer', [broken]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain(
      `${broken}:3: cannot parse line: this line has no equals sign`,
    );
    const unknown = await jobs.run('simple_consumer', ['--frobnicate', broken]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: unknown option '--frobnicate'");
    const noQuery = jobs.writeConfig('noquery', 'simple_consumer', { queue_name: 'q' });
    const missing = await jobs.run('simple_consumer', [noQuery]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[simple_consumer] missing required key "dst_query"');
    const badSet = await jobs.run('simple_consumer', [noQuery, '--set', 'novalue']);
    expect(badSet.code).toBe(1);
    expect(badSet.stderr).toContain('--set needs KEY=VALUE, not "novalue"');
    const wrongSection = jobs.writeConfig('wrong', 'pgqd', { queue_name: 'q' });
    const section = await jobs.run('simple_consumer', [wrongSection]);
    expect(section.code).toBe(1);
    expect(section.stderr).toContain('no [simple_consumer] or [simple_consumer3] section');
    const percent = jobs.writeConfig('percent', 'simple_consumer', {
      queue_name: 'q',
      dst_query: "select 'a%%'",
    });
    const badPercent = await jobs.run('simple_consumer', [percent]);
    expect(badPercent.code).toBe(1);
    expect(badPercent.stderr).toContain('dst_query: a "%" must start a %(name)s placeholder');
  });

  it('a consumer unregistered while the job runs: one clear line and exit 1, no retry loop', async () => {
    await makeQueue(db, 'q_dropped');
    await db.query('create table dst_dropped (id int, name text, ev_id bigint, ev_type text)');
    const config = jobs.writeConfig('dropped_job', 'simple_consumer', {
      ...baseKeys('q_dropped', 'dst_dropped'),
    });
    await register(db, 'q_dropped', 'dropped_job');
    const proc = jobs.start('simple_consumer', [config]);
    await proc.waitFor(/starting: consumer dropped_job on queue q_dropped/);
    await insert('q_dropped', 'I:id', 'id=1&name=a');
    await tickUntil('q_dropped', async () => (await rows('dst_dropped')).length === 1);
    await db.query("select pgq.unregister_consumer('q_dropped', 'dropped_job')");
    await tick(db, 'q_dropped');
    expect(await proc.exited).toBe(1);
    // A batch in hand when the subscription went may crash once (it cannot be finished);
    // then the job ends, naming consumer and queue, instead of retrying.
    const errors = proc.lines.filter((line) => / ERROR /.test(line));
    const log = proc.lines.join('\n');
    expect(errors.filter((line) => line.includes(' crashed: ')).length, log).toBeLessThanOrEqual(1);
    expect(errors.at(-1), log).toMatch(
      /ERROR \[job=dropped_job\] Job dropped_job stopped: .*consumer "dropped_job".* queue "q_dropped"/,
    );
  });

  it('no pgq in the source database: one clear line and exit 1, no retry loop', async () => {
    const bare = await db.createDatabase('nopgq');
    const config = jobs.writeConfig('nopgq_job', 'simple_consumer', {
      ...baseKeys('q_none', 'x'),
      src_db: libpq(db.config({ database: bare })),
    });
    const proc = jobs.start('simple_consumer', [config]);
    expect(await proc.exited).toBe(1);
    const log = proc.lines.join('\n');
    const errors = proc.lines.filter((line) => / ERROR /.test(line));
    expect(errors, log).toHaveLength(1);
    expect(errors[0], log).toMatch(
      /ERROR \[job=nopgq_job\] Job nopgq_job stopped: starting for consumer "nopgq_job" on queue "q_none": relation "pgq\.\w+" does not exist$/,
    );
  });

  it('unknown queue and unregistered consumer: the job says so and exits 1', async () => {
    await makeQueue(db, 'q_unreg');
    const noQueue = jobs.writeConfig('noqueue', 'simple_consumer', baseKeys('missing_q', 'x'));
    const a = await jobs.run('simple_consumer', [noQueue]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('Job noqueue stopped: queue "missing_q" does not exist');
    const unreg = jobs.writeConfig('unreg', 'simple_consumer', baseKeys('q_unreg', 'x'));
    const b = await jobs.run('simple_consumer', [unreg]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('consumer "unreg" is not registered on queue "q_unreg"');
    const c = await jobs.run('simple_consumer', [noQueue, '--register']);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(
      'cannot register consumer "noqueue" on queue "missing_q": Event queue not created yet',
    );
  });
});

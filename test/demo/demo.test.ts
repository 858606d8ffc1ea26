import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../src/demo/index.js';
import { useTestDatabase } from '../harness/database.js';
import { clusterDir, demo, startDemo } from './demo-cli.js';

const db = useTestDatabase();

async function demoLeftovers(): Promise<{ queues: string[]; tables: string[] }> {
  const queues = await db.query<{ queue_name: string }>(
    "select queue_name from pgq.queue where queue_name like 'skytools_demo%'",
  );
  const tables = await db.query<{ relname: string }>(
    "select relname from pg_catalog.pg_class where relname like 'skytools_demo%'",
  );
  return {
    queues: queues.rows.map((r) => r.queue_name),
    tables: tables.rows.map((r) => r.relname),
  };
}

describe('skytools demo', () => {
  it('runs end to end on a temporary cluster and removes it', async () => {
    const run = await demo('--duration', '3', '--rate', '150', '--interval', '0.5', '--json');
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as DemoSummary;
    expect(summary.produced).toBeGreaterThan(0);
    expect(summary.ticks).toBeGreaterThan(0);
    expect(summary.consumers.map((c) => c.kind)).toEqual(['plain', 'transactional']);
    for (const consumer of summary.consumers) {
      // The consumers catch up after the producer stops: every event reached both.
      expect(consumer.consumed).toBe(summary.produced);
      expect(consumer.batches).toBeGreaterThan(0);
      expect(consumer.latencyMs.p50).toBeGreaterThan(0);
      expect(consumer.latencyMs.p99).toBeGreaterThanOrEqual(consumer.latencyMs.p50 ?? 0);
    }
    // The transactional consumer's work committed once per event.
    expect(summary.tally).toBe(summary.produced);
    // Progress went to stderr, one line per interval, with both consumers in it.
    expect(run.stderr).toMatch(/produced \d+\/s total \d+ \| demo_plain .* \| demo_tx .*p50/);
    const dir = clusterDir(run.stderr);
    expect(dir).not.toBeNull();
    expect(existsSync(dir as string)).toBe(false);
    expect(summary.cleanup).toEqual([`removed the temporary cluster ${dir}`]);
  });

  it('uses --db and removes its queue, consumers and table', async () => {
    const run = await demo('--db', db.url, '--duration', '2', '--rate', '100');
    expect(run.code).toBe(0);
    expect(clusterDir(run.stderr)).toBeNull();
    const produced = Number(/produced +(\d+) events/.exec(run.stdout)?.[1]);
    expect(produced).toBeGreaterThan(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `demo_plain +${produced} events in \\d+ batches \\(plain\\); latency p50 [\\d.]+ms`,
      ),
    );
    expect(run.stdout).toMatch(
      new RegExp(`demo_tx +${produced} events in \\d+ batches \\(transactional\\)`),
    );
    expect(run.stdout).toMatch(new RegExp(`tally +${produced} events .*exactly once`));
    expect(run.stdout).toMatch(/removed queue skytools_demo_\w+, its consumers and table/);
    expect(await demoLeftovers()).toEqual({ queues: [], tables: [] });
  });

  it('keeps the queue with --keep and --queue', async () => {
    const run = await demo(
      '--db',
      db.url,
      '--duration',
      '1',
      '--queue',
      'skytools_demo_kept',
      '--keep',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/kept queue skytools_demo_kept, consumers demo_plain, demo_tx/);
    const consumers = await db.query<{ consumer_name: string }>(
      "select consumer_name from pgq.get_consumer_info('skytools_demo_kept') order by 1",
    );
    expect(consumers.rows.map((r) => r.consumer_name)).toEqual(['demo_plain', 'demo_tx']);
    // A second run under the same name is refused, and leaves the kept queue alone.
    const again = await demo('--db', db.url, '--duration', '1', '--queue', 'skytools_demo_kept');
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(
      /^skytools: error: queue skytools_demo_kept already exists in database \S+; name another with --queue$/,
    );
    expect((await demoLeftovers()).queues).toEqual(['skytools_demo_kept']);
    for (const name of ['demo_plain', 'demo_tx']) {
      await db.query("select pgq.unregister_consumer('skytools_demo_kept', $1)", [name]);
    }
    await db.query("select pgq.drop_queue('skytools_demo_kept')");
    await db.query('drop table skytools_demo_kept_tally');
  });

  it('stops cleanly on Ctrl-C (SIGINT)', async () => {
    const started = startDemo('--db', db.url, '--duration', '0', '--interval', '0.3');
    await expect
      .poll(() => /demo_tx \d+\/s total [1-9]/.test(started.output.stdout), { timeout: 30_000 })
      .toBe(true);
    started.child.kill('SIGINT');
    const run = await started.done;
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/stopping: consumers catch up/);
    const produced = Number(/produced +(\d+) events/.exec(run.stdout)?.[1]);
    expect(produced).toBeGreaterThan(0);
    expect(run.stdout).toMatch(new RegExp(`demo_plain +${produced} events`));
    expect(await demoLeftovers()).toEqual({ queues: [], tables: [] });
  });
});

describe('skytools demo refuses bad input', () => {
  /** One line on stderr naming the problem, exit 1, no server started. */
  function expectRefused(
    run: { code: number | null; stderr: string; stdout: string },
    message: RegExp,
  ) {
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(run.stdout).toBe('');
  }

  it('an unreachable --db', async () => {
    const run = await demo('--db', 'host=127.0.0.1 port=1 user=postgres dbname=nowhere');
    expectRefused(
      run,
      /^skytools: error: cannot connect to postgres@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/,
    );
  });

  it('a --db that does not parse', async () => {
    const run = await demo('--db', 'host=127.0.0.1 colour=blue');
    expectRefused(run, /^skytools: error: invalid connection string: unknown keyword "colour"$/);
  });

  it('a database where the user may not install pgq', async () => {
    const role = `demo_nobody_${Math.random().toString(36).slice(2, 8)}`;
    await db.query(`create role ${role} login`);
    try {
      const empty = await db.createDatabase('norights');
      const url = `postgresql://${role}@${db.cluster.host}:${db.cluster.port}/${empty}`;
      const run = await demo('--db', url, '--duration', '1');
      expectRefused(
        run,
        new RegExp(`^skytools: error: role ${role} may not create schemas in database ${empty}`),
      );
    } finally {
      await db.query(`drop role ${role}`);
    }
  });

  it.each([
    [
      ['--rate', '0'],
      /--rate must be a whole number of events per second from 1 to 100000, not "0"/,
    ],
    [['--rate', '1.5'], /--rate must be a whole number .* not "1\.5"/],
    [['--duration', 'soon'], /--duration must be a number of seconds, 0 or more, not "soon"/],
    [['--interval', '0'], /--interval must be a number of seconds above 0, not "0"/],
    [['--queue', 'Orders!'], /--queue must be lower-case letters, digits and _/],
  ])('option %j', async (args, message) => {
    expectRefused(await demo(...args), message);
  });

  it('--help explains every option', async () => {
    const run = await demo('--help');
    expect(run.code).toBe(0);
    for (const option of [
      '--db',
      '--rate',
      '--duration',
      '--interval',
      '--keep',
      '--queue',
      '--pg-bin',
      '--json',
    ]) {
      expect(run.stdout).toContain(option);
    }
    expect(run.stdout).toMatch(/Ctrl-C/);
  });
});

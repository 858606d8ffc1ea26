/**
 * pgqd on a server of its own, with auto-discovery: databases with and without pgq, an old
 * pgq, databases created and dropped while it runs, a 10 s rotation, a server restart, and
 * exit_after_failures. A private cluster, because discovery would otherwise find (and tick)
 * every other test file's database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { Cluster } from '../../src/pg/index.js';
import { type PgqdProcess, poll, usePgqd } from './helpers.js';

const pgqd = usePgqd();
const clusterDir = mkdtempSync(path.join(os.tmpdir(), 'skytools-pgqd-cluster-'));
let cluster: Cluster;
let daemon: PgqdProcess;
let config: string;

async function onDb<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(cluster.connectionConfig(database));
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const admin = (text: string) => onDb('postgres', (client) => client.query(text));

async function createPgqDatabase(name: string): Promise<void> {
  await admin(`create database ${name}`);
  await onDb(name, (client) => installSchemas(client, ['pgq']));
}

const tickCount = (database: string, queue: string) =>
  onDb(database, async (client) => {
    const { rows } = await client.query(
      `select count(*)::int as n from pgq.tick join pgq.queue on queue_id = tick_queue
        where queue_name = $1`,
      [queue],
    );
    return rows[0]?.n as number;
  });

/** A tick newer than the ones there now: pgqd is ticking this database. */
async function ticksAgain(database: string, queue: string): Promise<void> {
  // Counted first: the producer's NOTIFY may have pgqd tick before the insert returns.
  const before = await tickCount(database, queue);
  await onDb(database, (client) =>
    client.query('select pgq.insert_event($1, $2, $3)', [queue, 't', 'x']),
  );
  await poll(
    () => tickCount(database, queue),
    (n) => n > before,
    30_000,
  );
}

beforeAll(async () => {
  cluster = await Cluster.init({
    dir: clusterDir,
    pgBin: inject('sharedCluster').binDir,
    fsync: false,
    // pgq.maint_operations() lists VACUUM steps only when autovacuum cannot be relied on.
    settings: { autovacuum: 'off' },
  });
  await cluster.start({ stopOnExit: true });
  await createPgqDatabase('alpha');
  await admin('create database plain');
  await admin('create database oldpgq');
  await onDb('oldpgq', (client) =>
    client.query(
      "create schema pgq; create function pgq.version() returns text language sql as $$ select '2.1.8' $$",
    ),
  );
  await onDb('alpha', (client) =>
    client.query(`select pgq.create_queue('qa');
      select pgq.set_queue_config('qa', 'rotation_period', '10 seconds')`),
  );
  config = pgqd.writeConfig('discovery', {
    base_connstr: `host=${cluster.host} port=${cluster.port} user=${cluster.user}`,
    initial_database: 'postgres',
    logfile: path.join(pgqd.dir, 'discovery.log'),
  });
  daemon = pgqd.start([config, '-v']);
  await daemon.waitFor(/db=alpha\] pgq 3\.5 found/);
});

afterAll(async () => {
  if (daemon.child.exitCode === null) {
    daemon.signal('SIGINT');
    await daemon.exited;
  }
  await cluster?.stop({ mode: 'immediate' });
  rmSync(clusterDir, { recursive: true, force: true });
});

describe('pgqd auto-discovery', () => {
  it('ticks databases with pgq, ignores one without quietly, warns once about an old pgq', async () => {
    await ticksAgain('alpha', 'qa');
    await daemon.waitFor(
      /WARNING \[host=[^ ]+ db=oldpgq\] bad pgq version, ignoring \(pgq\.version\(\) = 2\.1\.8\)/,
    );
    // Let pgqd re-check both (check_period = 1 s) a few times.
    await daemon.waitFor(/DEBUG \[host=[^ ]+ db=plain\] no pgq schema/);
    const checks = daemon.lines.filter((line) => /db=plain\] no pgq/.test(line)).length;
    await poll(
      async () => daemon.lines.filter((line) => /db=plain\] no pgq/.test(line)).length,
      (n) => n >= checks + 2,
    );
    const noisy = daemon.lines.filter((line) => /db=plain/.test(line) && !/ DEBUG /.test(line));
    expect(noisy).toEqual([]);
    expect(daemon.lines.filter((line) => /bad pgq version/.test(line))).toHaveLength(1);
    expect(daemon.lines.filter((line) => / ERROR /.test(line))).toEqual([]);
  });

  it('picks up a database created while running and drops one that vanished', async () => {
    await createPgqDatabase('beta');
    await onDb('beta', (client) => client.query("select pgq.create_queue('qb')"));
    await daemon.waitFor(/db=beta\] pgq 3\.5 found/);
    await ticksAgain('beta', 'qb');
    await admin('drop database beta with (force)');
    await daemon.waitFor(/INFO Unregister database: beta/);
    await ticksAgain('alpha', 'qa');
  });

  it('rotates a queue with rotation_period 10 s', async () => {
    const table = () =>
      onDb('alpha', async (client) => {
        const { rows } = await client.query(
          "select queue_cur_table from pgq.queue where queue_name = 'qa'",
        );
        return rows[0]?.queue_cur_table as number;
      });
    const before = await table();
    await poll(table, (current) => current !== before, 40_000);
  });

  it('vacuums the busy pgq tables when autovacuum is off', async () => {
    const vacuumed = () =>
      onDb('alpha', async (client) => {
        const { rows } = await client.query(
          "select vacuum_count::int as n from pg_stat_user_tables where relid = 'pgq.tick'::regclass",
        );
        return rows[0]?.n as number;
      });
    await poll(vacuumed, (n) => n > 0, 30_000);
  });

  it('reconnects and resumes ticking after a server restart', async () => {
    const port = cluster.port;
    await cluster.stop({ mode: 'fast' });
    await daemon.waitFor(
      /ERROR \[host=[^ ]+ db=alpha queue=\*\] (statement failed|cannot connect)/,
    );
    await cluster.start({ port, stopOnExit: true });
    await daemon.waitFor(/db=alpha\] connection restored/, 30_000);
    await ticksAgain('alpha', 'qa');
  });
});

describe('exit_after_failures', () => {
  it('exits 1 once every database failed that many times in a row', async () => {
    const failing = pgqd.writeConfig('failfast', {
      base_connstr: `host=${cluster.host} port=${cluster.port} user=${cluster.user}`,
      initial_database: 'postgres',
      exit_after_failures: 2,
      reconnect_max_delay: 0.2,
    });
    const proc = pgqd.start([failing]);
    await proc.waitFor(/db=alpha\] pgq 3\.5 found/);
    // Both daemons hold alpha; this one may be the standby. Stop the server under both.
    await cluster.stop({ mode: 'fast' });
    expect(await proc.exited).toBe(1);
    expect(proc.lines.join('\n')).toMatch(
      /CRITICAL every database failed 2 times in a row \(exit_after_failures = 2\): giving up/,
    );
    await cluster.start({ port: cluster.port, stopOnExit: true });
  });
});

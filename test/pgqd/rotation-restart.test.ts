/**
 * A server restart between the two steps of pgqd's table rotation. Rotation step 1 switches a
 * queue to its next event table; step 2, in a later transaction, records the txid from which
 * no producer writes the old table any more; until then batches read both. Here the test
 * holds step 2 back (it takes the advisory lock step 2 waits for, shared, which step 1's own
 * shared lock passes), produces into the new table, and restarts the server with pgqd waiting
 * in step 2. pgqd reconnects and completes the rotation; a live transactional consumer and one
 * reading only now and then both get every event exactly once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { quoteQualified } from '../../src/db/quote.js';
import type { Cluster } from '../../src/pg/index.js';
import { Consumer } from '../../src/pgq/consumer.js';
import { restart, useRestartableClusters } from '../harness/clusters.js';
import { consumeSql, makeQueue, register } from '../pgq-lib/helpers.js';
import { type PgqdProcess, poll, usePgqd } from './helpers.js';

const startCluster = useRestartableClusters();
const pgqd = usePgqd();
const database = 'rot';
const queue = 'rq';
// `npm run test:stress` (SKYTOOLS_STRESS=1) restarts in five rotations in a row.
const rounds = process.env.SKYTOOLS_STRESS === '1' ? 5 : 1;

let cluster: Cluster;
let daemon: PgqdProcess;
let produced = 0;

async function on<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(cluster.connectionConfig(database));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** 20 events in one transaction; pgqd ticks them. */
async function produce(): Promise<void> {
  const from = produced;
  produced += 20;
  await on((db) =>
    db.query(`select pgq.insert_event($1, 'n', i::text) from generate_series($2::int, $3::int) i`, [
      queue,
      from,
      from + 19,
    ]),
  );
}

interface RotationState {
  cur: number;
  step2: string | null;
  /** The queue's event table (parent of the rotated ones), the current and the next, quoted. */
  parent: string;
  table: string;
  next: string;
}

async function rotationState(): Promise<RotationState> {
  return on(async (db) => {
    const { rows } = await db.query(
      `select queue_cur_table as cur, queue_switch_step2::text as step2,
              queue_data_pfx as pfx, queue_ntables as n
         from pgq.queue where queue_name = $1`,
      [queue],
    );
    const row = rows[0] as { cur: number; step2: string | null; pfx: string; n: number };
    const [schema, prefix] = row.pfx.split('.') as [string, string];
    const table = (i: number) => quoteQualified(schema, `${prefix}_${i}`);
    return {
      cur: row.cur,
      step2: row.step2,
      parent: quoteQualified(schema, prefix),
      table: table(row.cur),
      next: table((row.cur + 1) % row.n),
    };
  });
}

/** Events of the current round (the last 20 produced) in `table`. */
async function countIn(table: string): Promise<number> {
  return on(async (db) => {
    const { rows } = await db.query(
      `select count(*)::int as n from only ${table} where ev_data::int >= $1`,
      [produced - 20],
    );
    return rows[0]?.n as number;
  });
}

/** What the occasional consumer read so far. */
const lateSeen: string[] = [];

/** Read the occasional consumer's batches until it has every event produced so far. */
async function readLate(): Promise<void> {
  await poll(
    () =>
      on(async (db) => {
        for (;;) {
          const events = await consumeSql(db, queue, 'late');
          if (events === null) return lateSeen.length;
          lateSeen.push(...events.map((e) => e.ev_data as string));
        }
      }),
    (count) => count >= produced,
    40_000,
  );
}

/** The queue's rotation period: '0' makes a rotation due at once. */
async function rotationPeriod(period: string): Promise<void> {
  await on((db) =>
    db.query(`select pgq.set_queue_config($1, 'rotation_period', $2)`, [queue, period]),
  );
}

async function pauseTicker(paused: boolean): Promise<void> {
  await on((db) =>
    db.query('update pgq.queue set queue_ticker_paused = $2 where queue_name = $1', [
      queue,
      paused,
    ]),
  );
}

/** Wait until the live consumer applied as many events as were produced. */
async function appliedAll(): Promise<void> {
  await poll(
    () => on(async (db) => Number((await db.query('select count(*) from applied')).rows[0]?.count)),
    (count) => count >= produced,
    40_000,
  );
}

const all = () => Array.from({ length: produced }, (_, i) => String(i));
const sorted = (values: string[]) => [...values].sort((a, b) => Number(a) - Number(b));

beforeAll(async () => {
  cluster = await startCluster();
  const admin = new pg.Client(cluster.connectionConfig());
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  await on(async (db) => {
    await installSchemas(db, ['pgq']);
    await makeQueue(db, queue);
    await db.query(`select pgq.set_queue_config($1, 'rotation_period', '1 hour')`, [queue]);
    await register(db, queue, 'live');
    await register(db, queue, 'late');
    await db.query('create table applied (ev text)');
  });
  const config = pgqd.writeConfig('rotation', {
    base_connstr: `host=${cluster.host} port=${cluster.port} user=${cluster.user}`,
    database_list: database,
  });
  daemon = pgqd.start([config]);
  await daemon.waitFor(/pgq 3\.5 found/);
});

afterAll(async () => {
  daemon.signal('SIGINT');
  expect(await daemon.exited).toBe(0);
});

describe('pgqd rotation and a server restart', () => {
  it('restarted between step 1 and step 2: every event once to every consumer', async () => {
    const stop = new AbortController();
    const live = new Consumer({
      connection: cluster.connectionConfig(database),
      queue,
      consumer: 'live',
      transactional: true,
      loopDelay: 0.05,
      reconnectDelay: 0.1,
    }).run(
      async (event, { client }) => {
        await client?.query('insert into applied values ($1)', [event.data]);
      },
      { signal: stop.signal },
    );
    let holder: pg.Client | undefined;
    try {
      for (let round = 0; round < rounds; round++) {
        // No rotation in progress, and none due (the rotation period is long).
        const before = await poll(rotationState, (state) => state.step2 !== null, 40_000);
        // Both consumers read up to now: their positions do not hold the rotation back.
        await produce();
        await readLate();
        await appliedAll();
        holder = new pg.Client(cluster.connectionConfig(database));
        holder.on('error', () => {}); // ended by the restart
        await holder.connect();
        // Step 2 waits for this lock; step 1 takes it shared as well, and passes. Only while
        // a rotation is due or in progress does pgqd call them.
        await holder.query(`select pg_advisory_lock_shared(hashtext('pgq.rotate_tables'))`);
        // No ticks until the rotation is over: the next batch spans the old table, the new
        // one before step 2 and after it.
        await pauseTicker(true);
        await produce();
        expect(await countIn(before.table)).toBe(20);
        await rotationPeriod('0');
        await poll(
          rotationState,
          (state) => state.cur !== before.cur && state.step2 === null,
          40_000,
        );
        await rotationPeriod('1 hour');
        await poll(
          () =>
            on(async (db) => {
              const { rows } = await db.query(
                `select 1 from pg_stat_activity
                  where datname = current_database() and wait_event_type = 'Lock'
                    and query ilike '%maint_rotate_tables_step2%'`,
              );
              return rows.length;
            }),
          (waiting) => waiting === 1,
          40_000,
        );
        await produce(); // into the new table, before step 2
        expect(await countIn(before.next)).toBe(20);
        await restart(cluster);
        await holder.end().catch(() => {});
        holder = undefined;
        await produce();
        await poll(rotationState, (state) => state.step2 !== null, 40_000);
        await pauseTicker(false);
      }
      await appliedAll();
      await readLate();
    } finally {
      await holder?.end().catch(() => {});
      stop.abort();
      await live;
    }
    const applied = await on(async (db) => (await db.query('select ev from applied')).rows);
    expect(sorted(applied.map((r) => r.ev as string))).toEqual(all());
    expect(sorted(lateSeen)).toEqual(all());
  });
});

/**
 * compare while the root is written to all along, with our real workers replicating: the
 * snapshots and the tick that covers them put both sides at one point of the stream (rows
 * that moved meanwhile compared again), so a table replicated correctly compares equal
 * however busy its writers are; and the writer never waits on a lock meanwhile (pg_locks).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { background } from '../cascade/helpers.js';
import { connstr } from '../cascade-admin/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { londiste, type Running, startLondiste } from './helpers.js';

const test = useTestDatabase();
const queue = 'liveq';
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-compare-live-'));
const workers: Running[] = [];
let ticker: ReturnType<typeof background> | undefined;
let rootDb: string;

function ini(name: string, database: string, provider?: string): string {
  const file = path.join(dir, `${name}.ini`);
  const lines = [
    '[londiste]',
    `db = ${connstr(test, database)}`,
    `queue_name = ${queue}`,
    `node_name = ${name}`,
    `public_node_location = ${connstr(test, database)}`,
    ...(provider ? [`initial_provider_location = ${connstr(test, provider)}`] : []),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function ok(args: string[]) {
  const result = await londiste(args);
  expect(result.code, `londiste ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result;
}

beforeAll(async () => {
  const template = { template: test.cluster.templateDatabase };
  rootDb = await test.createDatabase('live_root', template);
  const leafDb = await test.createDatabase('live_leaf', template);
  const root = await test.connect({ database: rootDb });
  const leaf = await test.connect({ database: leafDb });
  await root.query('create table live (id int primary key, n int not null)');
  await root.query('insert into live select g, 0 from generate_series(1, 2000) g');
  await leaf.query('create table live (id int primary key, n int not null)');
  const rootIni = ini('root', rootDb);
  const leafIni = ini('leaf', leafDb, rootDb);
  await ok([rootIni, 'create-root']);
  await ok([leafIni, 'create-leaf']);
  // The root's ticker, as pgqd would run it.
  ticker = background(async (signal) => {
    while (!signal.aborted) {
      await root.query('select pgq.ticker()');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  workers.push(startLondiste([rootIni, 'worker']), startLondiste([leafIni, 'worker']));
  await ok([rootIni, 'add-table', 'live']);
  await ok([leafIni, 'wait-root', '--timeout', '120']);
  await ok([leafIni, 'add-table', 'live']);
  await ok([leafIni, 'wait-sync', '--timeout', '120']);
}, 240_000);

afterAll(async () => {
  for (const w of workers) await w.stop();
  await ticker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('compares equal while the root keeps changing the table, the writer never waiting on a lock', async () => {
  const root = await test.connect({ database: rootDb });
  const watch = await test.connect({ database: rootDb });
  const { rows } = await root.query<{ pid: number }>('select pg_backend_pid() as pid');
  const writerPid = rows[0]?.pid as number;
  let writes = 0;
  const writer = background(async (signal) => {
    while (!signal.aborted) {
      const id = 1 + Math.floor(Math.random() * 3000);
      await root.query(
        'insert into live values ($1, 1) on conflict (id) do update set n = live.n + 1',
        [id],
      );
      if (id % 7 === 0) await root.query('delete from live where id = $1', [id - 1]);
      writes++;
    }
  });
  // Every lock the writer waits for, and every lock on the table stronger than a reader's
  // that a session (compare's among them) holds, as pg_locks shows them while compares run.
  const waits: string[] = [];
  let samples = 0;
  const monitor = background(async (signal) => {
    while (!signal.aborted) {
      const { rows: seen } = await watch.query<{ what: string }>(
        `select format('pid %s waits for %s on %s', l.pid, l.mode, coalesce(l.relation::regclass::text, l.locktype)) as what
           from pg_locks l where l.pid = $1 and not l.granted
         union all
         select format('pid %s holds %s on live', l.pid, l.mode)
           from pg_locks l join pg_stat_activity s on s.pid = l.pid
          where l.relation = 'live'::regclass and l.pid <> $1
            and l.mode not in ('AccessShareLock')
            -- autovacuum's locks on the busy table block no writer, and are not compare's
            and s.backend_type = 'client backend'
         union all
         select format('pid %s waits (%s %s)', a.pid, a.wait_event_type, a.wait_event)
           from pg_stat_activity a where a.pid = $1 and a.wait_event_type = 'Lock'`,
        [writerPid],
      );
      samples++;
      waits.push(...seen.map((r) => r.what));
    }
  });
  try {
    for (let round = 0; round < 2; round++) {
      const before = writes;
      const result = await londiste([path.join(dir, 'leaf.ini'), 'compare']);
      expect(result.stderr).not.toContain('Results do not match');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(
        /^Counting public\.live\nsrcdb: (\d+) rows, checksum=(-?\d+)\ndstdb: \1 rows, checksum=\2\n$/,
      );
      // The writer went on during the compare: the point was taken in a moving stream, and
      // the rows it changed between the two snapshots were compared again at a second one.
      expect(writes).toBeGreaterThan(before);
      expect(result.stderr).toMatch(
        /public\.live: \d+ rows changed while the point was taken, comparing them again/,
      );
    }
  } finally {
    await writer.stop();
    await monitor.stop();
  }
  expect(samples).toBeGreaterThan(10);
  expect(waits).toEqual([]);
}, 240_000);

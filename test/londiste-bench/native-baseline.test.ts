/**
 * The replication workloads' harness (bench/lib), small: the native baseline's steps on two
 * real clusters (a disabled subscription caught up after the load, an initial copy under a
 * heartbeat, the live watcher), the Londiste side (our bin: root, leaf, worker; dist/ built),
 * the pairing that keeps the baseline when the Londiste side fails, and --db. Speed is the
 * bench's business: nothing here times anything.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareReplication } from '../../bench/lib/compare-replication.js';
import { contextFor, openBenchServer } from '../../bench/lib/context.js';
import { londisteNodes } from '../../bench/lib/londiste.js';
import {
  createSubscription,
  dropSubscription,
  enableSubscription,
  waitReady,
} from '../../bench/lib/native.js';
import { waitFor } from '../../bench/lib/poll.js';
import { pairOf, type ReplicationPair } from '../../bench/lib/replication-pair.js';
import { checkSame, openSides, type Sides } from '../../bench/lib/replication-sides.js';
import {
  digest,
  fillRows,
  hasRow,
  heartbeat,
  pacedInserts,
  rowTableDdl,
  watchArrivals,
  writeMarker,
  writeRows,
} from '../../bench/lib/row-load.js';
import { workloads } from '../../bench/workloads/index.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';

const table = 'bench.native_row';
const beat = 'bench.native_heartbeat';
const extraCluster = useExtraClusters();
const db = useTestDatabase();
let pair: ReplicationPair;
let sides: Sides;

beforeAll(async () => {
  pair = await pairOf(await extraCluster(), await extraCluster(), 'bench_harness', () => {});
  sides = await openSides(pair, [table, beat], [], 2);
});

afterAll(async () => {
  await sides?.close();
  await pair?.close();
});

async function slots(): Promise<string[]> {
  const { rows } = await sides.source.query<{ slot_name: string }>(
    'select slot_name from pg_replication_slots order by 1',
  );
  return rows.map((row) => row.slot_name);
}

describe('native logical replication baseline', () => {
  it('catches up a disabled subscription after the load, then leaves no slot', async () => {
    await createSubscription(sides.native, { copyData: false, enabled: false });
    expect(await slots()).toEqual(['bench_native']);
    await writeRows(sides.loaders, 'insert', table, 300, 1);
    await writeRows(sides.loaders, 'update', table, 300, 2);
    await writeMarker(sides.source, table, 301);
    expect(await hasRow(sides.target, table, 301)).toBe(false);
    await enableSubscription(sides.native);
    await waitFor('the marker', () => hasRow(sides.target, table, 301), { timeoutMs: 60_000 });
    await checkSame(sides, table);
    expect(await digest(sides.target, table)).toMatch(/^301\//);
    await dropSubscription(sides.native);
    expect(await slots()).toEqual([]);
  });

  it('copies a filled table under a heartbeat until every table is ready', async () => {
    await sides.target.query(`truncate ${table}, ${beat}`);
    await sides.source.query(`truncate ${table}, ${beat}`);
    await fillRows(sides.source, table, 5000);
    const running = heartbeat(sides.loaders[0] as pg.Client, beat, 1);
    try {
      await createSubscription(sides.native, { copyData: true });
      await waitReady(sides.native);
    } finally {
      expect(await running.stop()).toBeGreaterThan(0);
    }
    await checkSame(sides, table);
    await dropSubscription(sides.native);
    expect(await slots()).toEqual([]);
  });

  it('notes when each row of a paced load is first seen on the target', async () => {
    await sides.target.query(`truncate ${table}`);
    await sides.source.query(`truncate ${table}`);
    await createSubscription(sides.native, { copyData: false });
    const watcherClient = await pair.target.connect();
    const watcher = watchArrivals(watcherClient, table, 1, 201);
    try {
      const load = await pacedInserts(sides.loaders, table, {
        rate: 400,
        seconds: 0.5,
        firstId: 1,
      });
      expect(load.rows).toBe(200);
      await writeMarker(sides.source, table, 201);
      await waitFor('the marker seen', async () => watcher.seen(201), { timeoutMs: 60_000 });
      expect([...watcher.seenAt].every(Number.isFinite)).toBe(true);
      expect([...load.committedAt].every((at) => at > 0)).toBe(true);
    } finally {
      await watcher.stop();
      await watcherClient.end();
      await dropSubscription(sides.native);
    }
  });
});

describe('compareReplication', () => {
  it('keeps the native samples and names the failure when the Londiste side throws', async () => {
    let nativeRuns = 0;
    const result = await compareReplication({
      repeat: 2,
      unit: 'rows/s',
      native: async () => {
        nativeRuns += 1;
        return 100 * nativeRuns;
      },
      londiste: async () => {
        throw new Error('worker: not built yet');
      },
      log: () => {},
    });
    expect(nativeRuns).toBe(3);
    expect(result).toMatchObject({ baseline: 250, unit: 'rows/s' });
    expect(result.londiste_missing).toBe('failed: worker: not built yet');
    expect(result.value).toBeUndefined();
  });

  it('gives the ratio of the medians when both sides run', async () => {
    const result = await compareReplication({
      repeat: 3,
      unit: 'rows/s',
      native: async () => 200,
      londiste: async () => 300,
      log: () => {},
    });
    expect(result).toMatchObject({ value: 300, baseline: 200, ratio: 1.5 });
  });
});

describe('with --db', () => {
  it('skips every Londiste workload, saying it needs two clusters', async () => {
    const server = await openBenchServer(db.url, () => {});
    const ctx = contextFor(server, { quick: true, repeat: 1, log: () => {} });
    const names = workloads.map((w) => w.name).filter((name) => name.startsWith('londiste-'));
    expect(names).toEqual([
      'londiste-catchup-insert',
      'londiste-catchup-update',
      'londiste-copy',
      'londiste-live',
      'londiste-compare',
      'londiste-repair',
    ]);
    for (const workload of workloads.filter((w) => names.includes(w.name))) {
      const result = await workload.run(ctx);
      expect(result.skipped).toMatch(/needs two clusters/);
      expect(result.value).toBeUndefined();
    }
    await server.close();
  });
});

describe('the Londiste side', () => {
  it('makes a root and a leaf, adds a table and replays a load into it with our worker', async () => {
    const nodes = await londisteNodes(pair, () => {});
    if (typeof nodes === 'string') throw new Error(nodes);
    const own = 'bench.londiste_harness';
    await sides.source.query(rowTableDdl(own));
    await sides.target.query(rowTableDdl(own));
    await nodes.addTable(own, false);
    expect(await nodes.tableState('leaf', own)).toBe('ok');
    await expect(nodes.addTable(own, false)).rejects.toThrow(/already on the root/);
    await writeRows(sides.loaders, 'insert', own, 200, 1);
    await writeMarker(sides.source, own, 201);
    const worker = nodes.startWorker();
    try {
      await waitFor(
        'the marker on the leaf',
        async () => {
          worker.checkAlive();
          return hasRow(sides.target, own, 201);
        },
        { timeoutMs: 120_000 },
      );
      expect(worker.cpuSeconds()).toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
    await checkSame(sides, own);
    expect(() => worker.checkAlive()).toThrow(/worker exited/);
  }, 300_000); // four bin runs and a worker start: slow on a busy machine
});

/**
 * A server restart while a consumer runs: it reconnects, resumes at its position and loses
 * nothing (the batch in hand when the server went away is delivered again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { Cluster } from '../../src/pg/index.js';
import { Consumer } from '../../src/pgq/consumer.js';
import { makeQueue, memoryLogger, register, tick, waitFor } from './helpers.js';

// A kept (not throwaway) cluster: a throwaway one is removed when stopped.
const dir = mkdtempSync(path.join(tmpdir(), 'skytools-restart-'));
let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stop({ mode: 'immediate' });
  rmSync(dir, { recursive: true, force: true });
});

async function startCluster(): Promise<Cluster> {
  cluster = await Cluster.init({ dir, fsync: false, pgBin: inject('sharedCluster').binDir });
  await cluster.start({ stopOnExit: true });
  return cluster;
}

describe('server restart', () => {
  it('the consumer reconnects and every event is handled', async () => {
    const cluster = await startCluster();
    const config = cluster.connectionConfig();
    const admin = new pg.Client(config);
    await admin.connect();
    await installSchemas(admin, ['pgq']);
    await makeQueue(admin, 'r');
    await register(admin, 'r', 'c');
    const produce = async (db: pg.Client, from: number) => {
      await db.query(
        `select pgq.insert_event('r', 'n', i::text) from generate_series($1::int, $2::int) i`,
        [from, from + 99],
      );
      await tick(db, 'r');
    };
    await produce(admin, 0);
    await admin.end();

    const seen = new Set<string>();
    const log = memoryLogger();
    const stop = new AbortController();
    const consumer = new Consumer({
      connection: config,
      queue: 'r',
      consumer: 'c',
      loopDelay: 0.05,
      reconnectDelay: 0.2,
      logger: log,
    });
    const running = consumer.run((event) => void seen.add(event.data as string), {
      signal: stop.signal,
    });
    await waitFor(async () => seen.size === 100, 'the first events');

    await cluster.stop({ mode: 'fast' });
    await cluster.start({ port: cluster.port, stopOnExit: true });
    const again = new pg.Client(cluster.connectionConfig());
    await again.connect();
    await produce(again, 100);
    await waitFor(async () => seen.size === 200, 'the events after the restart');
    stop.abort();
    await running;
    await again.end();
    expect([...seen].map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(log.lines.some((line) => line.msg === 'reconnected')).toBe(true);
  });
});

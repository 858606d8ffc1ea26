/**
 * Shared by the RemoteConsumer and SerialConsumer tests: a target database with pgq_ext and
 * table `applied`, a queue with a stream of events, and child consumer processes to kill.
 */

import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { expect } from 'vitest';
import type { TestDatabase } from '../harness/database.js';
import { type Child, spawnChild } from './child-process.js';
import { makeQueue, tick, waitFor } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/target-child.mjs', import.meta.url));

export interface Target {
  config: pg.ClientConfig;
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A second database cloned from the run's template (so pgq_ext is installed there). */
export async function makeTarget(db: TestDatabase, suffix: string): Promise<Target> {
  const name = await db.createDatabase(suffix, { template: db.cluster.templateDatabase });
  const config = db.config({ database: name });
  const pool = db.pool({ database: name });
  await pool.query('create table applied (ev_id bigint, batch_id bigint, run int)');
  return { config, query: (text, values) => pool.query(text, values) };
}

/** Run a consumer until the target's `applied` holds `count` rows, then stop it gracefully. */
export async function runUntilApplied<H>(
  consumer: { run(handler: H, options: { signal: AbortSignal }): Promise<void> },
  handler: H,
  target: Target,
  count: number,
): Promise<void> {
  const stop = new AbortController();
  const run = consumer.run(handler, { signal: stop.signal });
  await waitFor(async () => {
    const { rows } = await target.query<{ n: number }>('select count(*)::int as n from applied');
    return (rows[0]?.n ?? 0) >= count;
  }, `${count} rows in the target`);
  stop.abort();
  await run;
}

/** A queue with `ticks` batches of `perTick` events, registered for `consumer`. */
export async function streamQueue(
  db: TestDatabase,
  queue: string,
  consumer: string,
  ticks: number,
  perTick: number,
): Promise<void> {
  await makeQueue(db, queue);
  await db.query('select pgq.register_consumer($1, $2)', [queue, consumer]);
  await addEvents(db, queue, ticks, perTick);
}

export async function addEvents(
  db: TestDatabase,
  queue: string,
  ticks: number,
  perTick: number,
): Promise<void> {
  for (let t = 0; t < ticks; t++) {
    await db.query(`select pgq.insert_event($1, 'n', i::text) from generate_series(1, $2::int) i`, [
      queue,
      perTick,
    ]);
    await tick(db, queue);
  }
}

/** Every event id of the queue. */
export async function queueEventIds(db: TestDatabase, queue: string): Promise<string[]> {
  const { rows: q } = await db.query<{ pfx: string }>(
    'select queue_data_pfx as pfx from pgq.queue where queue_name = $1',
    [queue],
  );
  const { rows } = await db.query<{ ev_id: string }>(
    `select ev_id::text from ${q[0]?.pfx} order by ev_id`,
  );
  return rows.map((r) => r.ev_id);
}

/** The target holds each event of the queue exactly once. */
export async function expectExactlyOnce(
  db: TestDatabase,
  target: Target,
  queue: string,
): Promise<void> {
  const ids = await queueEventIds(db, queue);
  const { rows } = await target.query<{ ev_id: string; n: number }>(
    'select ev_id::text, count(*)::int as n from applied group by ev_id order by ev_id',
  );
  expect(rows.map((r) => r.ev_id)).toEqual(ids);
  expect(rows.filter((r) => r.n !== 1)).toEqual([]);
}

export function spawnTargetChild(
  db: TestDatabase,
  target: Target,
  args: { queue: string; consumer: string; kind: 'remote' | 'serial'; mode: string; run: number },
): Child {
  return spawnChild(child, [
    JSON.stringify(db.config()),
    JSON.stringify(target.config),
    args.queue,
    args.consumer,
    args.kind,
    args.mode,
    String(args.run),
  ]);
}

/** Run children and SIGKILL each once it has handled some events, `kills` times. */
export async function killRepeatedly(
  db: TestDatabase,
  target: Target,
  queue: string,
  consumer: string,
  kind: 'remote' | 'serial',
  kills: number,
): Promise<void> {
  for (let run = 0; run < kills; run++) {
    const running = spawnTargetChild(db, target, { queue, consumer, kind, mode: 'run', run });
    const goal = 20 + ((run * 97) % 150);
    await waitFor(
      async () => running.progress() >= goal || running.proc.exitCode !== null,
      'progress',
    );
    expect(running.proc.exitCode, running.output()).toBeNull();
    running.proc.kill('SIGKILL');
    await running.exited;
  }
}

/** Kill a child right after its first target commit, before it finishes the source batch. */
export async function killAfterCommit(
  db: TestDatabase,
  target: Target,
  queue: string,
  consumer: string,
  kind: 'remote' | 'serial',
): Promise<number> {
  const running = spawnTargetChild(db, target, {
    queue,
    consumer,
    kind,
    mode: 'commit-kill',
    run: 0,
  });
  await running.exited;
  const committed = /committed (\d+)\n/.exec(running.output());
  expect(committed, running.output()).not.toBeNull();
  expect(running.proc.signalCode).toBe('SIGKILL');
  return Number(committed?.[1]);
}

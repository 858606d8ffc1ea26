/**
 * leafMergeEvents: a leaf takes every tick waiting on its provider into one batch (up to
 * about that many events), every event once and in order; without it, one tick per batch;
 * past the cap, the batch ends at the first tick that reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/index.js';
import { useTestDatabase } from '../harness/database.js';
import { completedTick, createChain, sharedNodes, type TestNode, tickRoot } from './helpers.js';

const test = useTestDatabase();
const queue = 'merge q';
let root: TestNode;
let leaf: TestNode;
const workers: CascadedWorker[] = [];

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  // Ticks as pgqd makes them (force_tick would move the event sequence by thousands).
  await root.db.query(`select pgq.set_queue_config($1, 'ticker_max_count', '1')`, [queue]);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

/** `ticks` ticks of `perTick` events each; the last tick's id. */
async function produceTicks(ticks: number, perTick: number, tag: string): Promise<string> {
  let last = '';
  for (let t = 0; t < ticks; t++) {
    await root.db.query(
      `select pgq.insert_event($1, 'row', $2 || '-' || g) from generate_series(1, $3) g`,
      [queue, `${tag}${t}`, perTick],
    );
    const { rows } = await root.db.query('select pgq.ticker($1)::text as tick', [queue]);
    last = rows[0]?.tick as string;
  }
  return last;
}

function worker(leafMergeEvents: number | undefined, seen: string[], batches: number[]) {
  const made = new CascadedWorker({
    connection: leaf.config,
    queue,
    leafMergeEvents,
    hooks: {
      async applyEvents(_ctx, events) {
        for (const event of events) seen.push(event.data as string);
      },
    },
    onBatch: (stats) => batches.push(stats.count),
  });
  workers.push(made);
  return made;
}

/** Run `w` until the leaf completed `lastTick`, then close it (one worker at a time). */
async function drain(w: CascadedWorker, lastTick: string) {
  try {
    while ((await completedTick(leaf.db, queue)) !== lastTick) await w.runOnce();
  } finally {
    await w.close();
  }
}

const expected = (ticks: number, perTick: number, tag: string) =>
  Array.from({ length: ticks }, (_, t) =>
    Array.from({ length: perTick }, (_, g) => `${tag}${t}-${g + 1}`),
  ).flat();

describe('a leaf merging ticks', () => {
  it('takes ten waiting ticks as one batch, every event once and in order', async () => {
    await drain(worker(undefined, [], []), await tickRoot(root.db, queue));
    const last = await produceTicks(10, 5, 'a');
    const seen: string[] = [];
    const batches: number[] = [];
    await drain(worker(1000, seen, batches), last);
    expect(seen).toEqual(expected(10, 5, 'a'));
    expect(batches.filter((n) => n > 0)).toEqual([50]);
  });

  it('without it, takes one tick per batch', async () => {
    const last = await produceTicks(4, 3, 'b');
    const seen: string[] = [];
    const batches: number[] = [];
    await drain(worker(undefined, seen, batches), last);
    expect(seen).toEqual(expected(4, 3, 'b'));
    expect(batches).toEqual([3, 3, 3, 3]);
  });

  it('past the cap, ends a batch at the first tick that reaches it', async () => {
    const last = await produceTicks(9, 10, 'c');
    const seen: string[] = [];
    const batches: number[] = [];
    await drain(worker(20, seen, batches), last);
    expect(seen).toEqual(expected(9, 10, 'c'));
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(9);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(90);
  });
});

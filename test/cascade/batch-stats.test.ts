/**
 * The onBatch hook of CascadedWorker and CascadedConsumer: called once per finished batch
 * with the batch's tick, what was read, copied and handled; a hook that throws is logged and
 * neither repeats nor undoes the batch; a hook that is not a function is refused up front.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CascadedBatchStats,
  CascadedConsumer,
  CascadedWorker,
  CascadeError,
} from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  background,
  completedTick,
  createChain,
  memoryLogger,
  queueEvents,
  sharedNodes,
  type TestNode,
  tickRoot,
  waitFor,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'statq';
let root: TestNode;
let branch: TestNode;
let leaf: TestNode;
const closing: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  [root, branch, leaf] = await sharedNodes(test, 'root', 'branch', 'leaf');
  await createChain(queue, [root, branch, leaf], 'leaf');
  await leaf.db.query('create table seen (data text)');
});

afterAll(async () => {
  await Promise.all(closing.map((c) => c.close()));
});

async function produce(events: string[]): Promise<string> {
  for (const data of events) {
    await root.db.query(`select pgq.insert_event($1, 'data', $2)`, [queue, data]);
  }
  return tickRoot(root.db, queue);
}

describe('onBatch', () => {
  it('a branch worker reports every batch; the copied counts add up to its queue', async () => {
    const reports: CascadedBatchStats[] = [];
    const worker = new CascadedWorker({
      connection: branch.config,
      queue,
      loopDelay: 0.05,
      onBatch: (stats) => reports.push(stats),
    });
    closing.push(worker);
    const tick = await produce(['a', 'b', 'c']);
    const running = background((signal) => worker.run({ signal }));
    await waitFor(async () => reports.some((r) => r.tick === tick), `batch up to tick ${tick}`);
    await running.stop();
    const copied = reports.reduce((sum, r) => sum + r.copied, 0);
    expect(copied).toBe((await queueEvents(branch.db, queue)).length);
    for (const r of reports) {
      expect(r.count).toBe(r.copied);
      expect(r.duration).toBeGreaterThanOrEqual(0);
      expect(typeof r.batch).toBe('number');
    }
    expect(reports.at(-1)?.tick).toBe(await completedTick(branch.db, queue));
    // Ticks only grow: each batch is reported once.
    const ticks = reports.map((r) => BigInt(r.tick));
    expect([...ticks].sort((x, y) => (x < y ? -1 : 1))).toEqual(ticks);
    expect(new Set(ticks).size).toBe(ticks.length);
  });

  it('a leaf worker copies nothing; a throwing hook is logged and the batch stays done', async () => {
    const log = memoryLogger();
    const copied: number[] = [];
    const worker = new CascadedWorker({
      connection: leaf.config,
      queue,
      loopDelay: 0.05,
      logger: log,
      onBatch: (stats) => {
        copied.push(stats.copied);
        throw new Error('monitor down');
      },
    });
    closing.push(worker);
    const top = await completedTick(branch.db, queue);
    const running = background((signal) => worker.run({ signal }));
    await waitFor(async () => (await completedTick(leaf.db, queue)) === top, `leaf at ${top}`);
    await running.stop();
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.every((n) => n === 0)).toBe(true);
    const failures = log.lines.filter((l) => l.msg === 'onBatch hook failed');
    expect(failures.length).toBe(copied.length);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    const state = await leaf.db.query('select cur_error from pgq_node.get_worker_state($1)', [
      queue,
    ]);
    expect(state.rows[0].cur_error).toBeNull();
  });

  it('a cascaded consumer reports the events it handed to the handler', async () => {
    await CascadedConsumer.register({ connection: leaf.config, queue, consumer: 'stats_app' });
    const reports: CascadedBatchStats[] = [];
    const consumer = new CascadedConsumer({
      connection: leaf.config,
      queue,
      consumer: 'stats_app',
      loopDelay: 0.05,
      onBatch: (stats) => reports.push(stats),
    });
    closing.push(consumer);
    const branchWorker = new CascadedWorker({ connection: branch.config, queue, loopDelay: 0.05 });
    closing.push(branchWorker);
    const copying = background((signal) => branchWorker.run({ signal }));
    const tick = await produce(['d', 'e']);
    const stop = new AbortController();
    let handled = 0;
    const running = consumer.run(
      async (event, { target }) => {
        handled++;
        await target.query('insert into seen values ($1)', [event.data]);
      },
      { signal: stop.signal },
    );
    await waitFor(async () => reports.some((r) => r.tick === tick), `consumer at tick ${tick}`);
    stop.abort();
    await running;
    await copying.stop();
    expect(reports.reduce((sum, r) => sum + r.count, 0)).toBe(handled);
    expect(handled).toBe(2);
    expect(reports.every((r) => r.copied === 0)).toBe(true);
    const seen = await leaf.db.query('select data from seen order by data');
    expect(seen.rows.map((r) => r.data)).toEqual(['d', 'e']);
  });

  it('refuses an onBatch that is not a function', () => {
    const bad = { onBatch: 'log it' } as unknown as { onBatch: () => void };
    expect(() => new CascadedWorker({ connection: branch.config, queue, ...bad })).toThrow(
      new CascadeError('BAD_OPTION', 'option onBatch must be a function', { queue }),
    );
    expect(
      () => new CascadedConsumer({ connection: leaf.config, queue, consumer: 'x', ...bad }),
    ).toThrow(/option onBatch must be a function/);
  });
});

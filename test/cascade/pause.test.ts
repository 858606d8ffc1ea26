/**
 * pause / resume as the admin tool does them (set_consumer_paused, then wait for uptodate)
 * against a running worker and a running CascadedConsumer: each acknowledges, stops
 * applying while paused, and goes on from where it was after resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedConsumer, CascadedWorker } from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  background,
  completedTick,
  createChain,
  one,
  queueTop,
  sharedNodes,
  type TestNode,
  tickRoot,
  waitFor,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'pq';
let root: TestNode;
let branch: TestNode;
const seen: string[] = [];
let runs: ReturnType<typeof background>[] = [];

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
  await createChain(queue, [root, branch]);
  await CascadedConsumer.register({ connection: branch.config, queue, consumer: 'app' });
  runs = [
    background((signal) =>
      new CascadedWorker({
        connection: branch.config,
        queue,
        loopDelay: 0.05,
        // remote_extra_connstr: appended to the provider's location when connecting.
        extraConnstr: 'application_name=pause_test_extra',
      }).run({ signal }),
    ),
    background((signal) =>
      new CascadedConsumer({
        connection: branch.config,
        queue,
        consumer: 'app',
        loopDelay: 0.05,
      }).run(
        (event) => {
          seen.push(event.data as string);
        },
        { signal },
      ),
    ),
  ];
});

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
});

async function state(consumer: string) {
  return one(branch.db, 'select * from pgq_node.get_consumer_state($1, $2)', [queue, consumer]);
}

async function setPaused(consumer: string, paused: boolean) {
  const result = await one(branch.db, 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [
    queue,
    consumer,
    paused,
  ]);
  expect(result.ret_code).toBe(200);
  await waitFor(
    async () => (await state(consumer)).uptodate === true,
    `${consumer} to acknowledge`,
  );
}

describe('pause and resume of the worker and a cascaded consumer', () => {
  it('the worker acknowledges a pause, applies nothing while paused, resumes where it was', async () => {
    await root.db.query(`select pgq.insert_event($1, 'data', 'one')`, [queue]);
    const first = await tickRoot(root.db, queue);
    await waitFor(async () => (await completedTick(branch.db, queue)) === first, 'first batch');
    const sessions = await root.db.query(
      `select 1 from pg_stat_activity where application_name = 'pause_test_extra'`,
    );
    expect(sessions.rows).toHaveLength(1);

    await setPaused('branch_worker', true);
    await root.db.query(`select pgq.insert_event($1, 'data', 'two')`, [queue]);
    const second = await tickRoot(root.db, queue);
    // Several of its loops later it still has not moved.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await completedTick(branch.db, queue)).toBe(first);
    expect(await queueTop(branch.db, queue)).toBe(first);

    await setPaused('branch_worker', false);
    await waitFor(async () => (await completedTick(branch.db, queue)) === second, 'after resume');
    await waitFor(async () => (await queueTop(branch.db, queue)) === second, 'the tick made here');
  });

  it('a cascaded consumer acknowledges a pause and goes on after resume', async () => {
    await waitFor(async () => seen.includes('two'), 'the consumer to have the events so far');
    await setPaused('app', true);
    await root.db.query(`select pgq.insert_event($1, 'data', 'three')`, [queue]);
    const third = await tickRoot(root.db, queue);
    await waitFor(async () => (await completedTick(branch.db, queue)) === third, 'the worker');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seen).toEqual(['one', 'two']);
    await setPaused('app', false);
    await waitFor(async () => (await state('app')).completed_tick === third, 'after resume');
    expect(seen).toEqual(['one', 'two', 'three']);
  });
});

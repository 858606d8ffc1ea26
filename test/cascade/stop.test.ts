/**
 * Stopping a running worker: aborting the signal lets the batch in hand finish; close()
 * under it (a CLI's immediate stop) drops the batch in hand, which comes again on the next
 * run, and records no error on the node.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  completedTick,
  createChain,
  one,
  queueEvents,
  queueTop,
  sharedNodes,
  type TestNode,
  tickRoot,
  waitFor,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'stopq';
let root: TestNode;
let branch: TestNode;

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
  await createChain(queue, [root, branch]);
  for (let t = 0; t < 10; t++) {
    await root.db.query(
      `select pgq.insert_event($1, 'data', repeat('x', 200) || i) from generate_series(1, 5000) i`,
      [queue],
    );
    await tickRoot(root.db, queue);
  }
});

async function copying(): Promise<boolean> {
  const { rows } = await branch.db.query(
    `select 1 from pg_stat_activity where application_name = 'stop-test' and
       datname = current_database() and xact_start is not null and state <> 'idle'`,
  );
  return rows.length > 0;
}

describe('stopping a running worker', () => {
  it('close() under a running worker: run resolves, no error stored, the next run catches up', async () => {
    const worker = new CascadedWorker({
      connection: branch.config,
      queue,
      loopDelay: 0.05,
      batchMaxBytes: 64 * 1024,
      applicationName: 'stop-test',
    });
    const controller = new AbortController();
    const running = worker.run({ signal: controller.signal });
    await waitFor(copying, 'the worker to be copying', 60_000, 2);
    await worker.close();
    controller.abort();
    await running;
    const state = await one(branch.db, 'select * from pgq_node.get_worker_state($1)', [queue]);
    expect(state.cur_error).toBeNull();
    const top = await queueTop(root.db, queue);
    expect(await completedTick(branch.db, queue)).not.toBe(top);

    const again = new CascadedWorker({ connection: branch.config, queue, loopDelay: 0.05 });
    const stop = new AbortController();
    const second = again.run({ signal: stop.signal });
    await waitFor(async () => (await completedTick(branch.db, queue)) === top, 'catching up');
    stop.abort();
    await second;
    expect(await queueEvents(branch.db, queue)).toEqual(await queueEvents(root.db, queue));
  });
});

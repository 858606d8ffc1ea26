/**
 * A branch whose tool must see its events (worker-hooks.ts): it decodes its batches instead
 * of streaming bytes, and still keeps every event exactly (ids, retries, escapes, NULLs) and
 * the root's ticks; forwardEvent rewrites or drops events before they enter the branch's
 * queue, so the leaf below sees the rewritten stream; applyEvents runs on the branch too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker, type CascadeWorkerHooks } from '../../src/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  batches,
  createChain,
  drain,
  queueEvents,
  sharedNodes,
  type TestNode,
  tickRoot,
  ticks,
} from './helpers.js';

const test = useTestDatabase();
let root: TestNode;
let branch: TestNode;
let leaf: TestNode;
const workers: CascadedWorker[] = [];

beforeAll(async () => {
  [root, branch, leaf] = await sharedNodes(test, 'root', 'branch', 'leaf');
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

function worker(node: TestNode, queue: string, hooks: CascadeWorkerHooks) {
  const made = new CascadedWorker({ connection: node.config, queue, hooks, batchMaxEvents: 3 });
  workers.push(made);
  return made;
}

describe('worker hooks on a branch', () => {
  it('a decoding branch keeps every event and tick exactly as the byte stream does', async () => {
    const queue = 'exact';
    const start = await createChain(queue, [root, branch]);
    const payloads = ['tab\there', 'new\nline', 'back\\slash \\N', 'ünï ✓ 🎉', '', null];
    for (const [i, data] of payloads.entries()) {
      await root.db.query('select pgq.insert_event($1, $2, $3, $4, null, $5, null)', [
        queue,
        `t${i}`,
        data,
        i % 2 === 0 ? null : `e1\t${i}`,
        `e3\\${i}`,
      ]);
    }
    await tickRoot(root.db, queue);
    await root.db.query(`update pgq.event_template set ev_retry = 2 where ev_type = 't1'`);
    await root.db.query('select pgq.insert_event($1, $2, $3)', [queue, 'last', 'x']);
    await tickRoot(root.db, queue);
    let applied = 0;
    await drain(
      worker(branch, queue, {
        async applyEvents(_ctx, events) {
          applied += events.length;
        },
      }),
    );
    expect(applied).toBe(payloads.length + 1);
    expect(await queueEvents(branch.db, queue)).toEqual(await queueEvents(root.db, queue));
    expect(await ticks(branch.db, queue, start)).toEqual(await ticks(root.db, queue, start));
    expect(await batches(branch.db, queue, start)).toEqual(await batches(root.db, queue, start));
  });

  it('forwardEvent rewrites and drops events; the leaf below sees the rewritten stream', async () => {
    const queue = 'rewrite';
    await createChain(queue, [root, branch, leaf], 'leaf');
    for (const [type, data] of [
      ['keep', 'a'],
      ['drop', 'b'],
      ['shout', 'c'],
      ['keep', 'd'],
    ]) {
      await root.db.query('select pgq.insert_event($1, $2, $3)', [queue, type, data]);
    }
    // A cascade event in the same batch: never given to forwardEvent, copied and applied.
    await root.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'n9',
      'dbname=n9',
    ]);
    await tickRoot(root.db, queue);
    const forwarded: string[] = [];
    const branchWorker = worker(branch, queue, {
      forwardEvent(_ctx, event) {
        forwarded.push(event.type ?? '');
        if (event.type === 'drop') return null;
        if (event.type === 'shout') {
          const row = [...event.row];
          row[4] = 'shouted';
          row[5] = (event.data ?? '').toUpperCase();
          return row;
        }
        return event.row;
      },
    });
    const seen: string[] = [];
    const leafWorker = worker(leaf, queue, {
      async applyEvents(_ctx, events) {
        seen.push(...events.map((e) => `${e.id}:${e.type}:${e.data}`));
      },
    });
    await drain(branchWorker, leafWorker);
    expect(forwarded).toEqual(['keep', 'drop', 'shout', 'keep']);
    const rootIds = (await queueEvents(root.db, queue))
      .filter((e) => !e.ev_type.startsWith('pgq.'))
      .map((e) => e.ev_id);
    const [a, , c, d] = rootIds;
    expect(seen).toEqual([`${a}:keep:a`, `${c}:shouted:C`, `${d}:keep:d`]);
    const onBranch = (await queueEvents(branch.db, queue)).map((e) => e.ev_type);
    expect(onBranch.filter((t) => !t.startsWith('pgq.'))).toEqual(['keep', 'shouted', 'keep']);
    expect(onBranch.at(-1)).toBe('pgq.location-info');
    for (const node of [branch, leaf]) {
      const { rows } = await node.db.query(
        'select node_location from pgq_node.get_queue_locations($1) where node_name = $2',
        [queue, 'n9'],
      );
      expect(rows).toEqual([{ node_location: 'dbname=n9' }]);
    }
  });

  it('a failing forwardEvent rolls the branch batch back: no event, no tick, retried whole', async () => {
    const queue = 'fails';
    const start = await createChain(queue, [root, branch]);
    await root.db.query('select pgq.insert_event($1, $2, $3)', [queue, 'x', '1']);
    await root.db.query('select pgq.insert_event($1, $2, $3)', [queue, 'x', '2']);
    await tickRoot(root.db, queue);
    let fail = true;
    const w = worker(branch, queue, {
      forwardEvent(_ctx, event) {
        if (fail && event.data === '2') throw new Error('cannot forward');
        return event.row;
      },
    });
    await expect(w.runOnce()).rejects.toThrow('cannot forward');
    expect(await queueEvents(branch.db, queue)).toEqual([]);
    expect(await ticks(branch.db, queue, start)).toEqual([]);
    fail = false;
    await drain(w);
    expect(await queueEvents(branch.db, queue)).toEqual(await queueEvents(root.db, queue));
    expect(await ticks(branch.db, queue, start)).toEqual(await ticks(root.db, queue, start));
  });
});

/**
 * A tool's takeover steps (AdminHooks.takeoverSteps): after a switchover's own steps, the
 * tool's steps run on the new root, reported like the cascade's (step lines, a resumable
 * failure report); a refused takeover runs none of them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdminHooks, TakeoverDone } from '../../src/cascade/admin/hooks.js';
import { AdminSession } from '../../src/cascade/admin/session.js';
import { takeover } from '../../src/cascade/admin/takeover.js';
import { useTestDatabase } from '../harness/database.js';
import type { Node } from '../pgq_node/node-helpers.js';
import {
  createRoot,
  createSubscriber,
  fastTicks,
  nodeState,
  sharedNodes,
  startTicker,
  startWorker,
  useRunners,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'tool q';
let root: Node;
let branch: Node;
const runners = useRunners();

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
  await createRoot(root, queue, 'r_worker');
  await createSubscriber(branch, root, queue, 'branch', { worker: 'b_worker' });
  await fastTicks(root, queue);
  await fastTicks(branch, queue);
  await branch.db.query('create table tool_moves (kind text, old_node text, new_node text)');
});

function session(local: Node, hooks: AdminHooks) {
  const info: string[] = [];
  const made = new AdminSession({
    queue,
    localDb: local.location,
    hooks,
    output: { print: () => {}, info: (line) => info.push(line), warn: (line) => info.push(line) },
  });
  return { session: made, info };
}

describe('takeover steps of a tool', () => {
  it('run after a switchover on the new root, reported as steps', async () => {
    for (const node of [root, branch]) runners.push(startWorker(node, queue));
    runners.push(startTicker([root, branch], queue));
    const seen: TakeoverDone[] = [];
    const hooks: AdminHooks = {
      takeoverSteps(s, done) {
        seen.push(done);
        return [
          {
            title: `record the move on ${done.newNode}`,
            async run() {
              const local = await s.local();
              await local.query('insert into tool_moves values ($1, $2, $3)', [
                done.kind,
                done.oldNode,
                done.newNode,
              ]);
            },
          },
        ];
      },
    };
    const { session: s, info } = session(branch, hooks);
    try {
      await takeover(s, { oldNode: 'root' });
    } finally {
      await s.close();
    }
    expect(await nodeState(branch, queue)).toEqual({ node_type: 'root', provider_node: 'branch' });
    expect(seen).toEqual([{ kind: 'switchover', oldNode: 'root', newNode: 'branch' }]);
    const { rows } = await branch.db.query('select * from tool_moves');
    expect(rows).toEqual([{ kind: 'switchover', old_node: 'root', new_node: 'branch' }]);
    expect(info).toContain(
      'switchover root -> branch: tool steps: step 1/1: record the move on branch',
    );
    expect(info.at(-1)).toBe('switchover root -> branch: tool steps: done (1 steps)');
  });

  it('a refused takeover runs no tool step', async () => {
    let asked = 0;
    const { session: s } = session(branch, {
      takeoverSteps() {
        asked++;
        return [];
      },
    });
    try {
      await expect(takeover(s, { oldNode: 'branch' })).rejects.toThrow(/cannot take over itself/);
    } finally {
      await s.close();
    }
    expect(asked).toBe(0);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { expectPgError } from '../harness/assertions.js';
import { useTestDatabase } from '../harness/database.js';
import { createRoot, createSubscriber, type Node, nodeDatabase, one, ret } from './node-helpers.js';

const test = useTestDatabase();
const queue = 'dpq';
let root: Node;
let branch: Node;
let leaf: Node;

beforeAll(async () => {
  root = await nodeDatabase(test, 'root');
  branch = await nodeDatabase(test, 'branch', 'branch');
  leaf = await nodeDatabase(test, 'leaf', 'leaf');
  await createRoot(root, queue);
  await createSubscriber(branch, root, queue, 'branch');
  await createSubscriber(leaf, branch, queue, 'leaf', { root });
});

const demote = 'select * from pgq_node.demote_root($1, $2, $3)';

async function queueFlags(node: Node) {
  return one(
    node.db,
    `select queue_disable_insert as disabled, queue_external_ticker as external
       from pgq.queue where queue_name = $1`,
    [queue],
  );
}

async function eventsBetween(node: Node, from: string, to: string) {
  // The events of batch (from, to] as a consumer would get them.
  await node.db.query(`select pgq.register_consumer_at($1, 'probe', $2)`, [queue, from]);
  try {
    const batch = await one(node.db, `select * from pgq.next_batch_info($1, 'probe')`, [queue]);
    expect(batch.cur_tick_id).toBe(to);
    const { rows } = await node.db.query(
      `select ev_data from pgq.get_batch_events($1) where ev_type = 'data' order by ev_id`,
      [batch.batch_id],
    );
    return rows.map((r) => r.ev_data);
  } finally {
    await node.db.query(`select pgq.unregister_consumer($1, 'probe')`, [queue]);
  }
}

describe('pgq_node.demote_root', () => {
  it('refuses steps 2 and 3 before step 1, and a bad step number', async () => {
    await expectPgError(root.db.query(demote, [queue, 2, 'branch']), 'steps in wrong order');
    await expectPgError(root.db.query(demote, [queue, 3, 'branch']), 'steps in wrong order');
    // As upstream, the order is checked first: a step past 3 before step 1 is "wrong order".
    await expectPgError(root.db.query(demote, [queue, 7, 'branch']), 'steps in wrong order');
    await expectPgError(root.db.query(demote, [queue, 0, 'branch']), 'incorrect step number');
    expect(await queueFlags(root)).toEqual({ disabled: false, external: false });
  });

  it('404 for an unknown queue; 301 on a branch or leaf', async () => {
    expect(await one(root.db, demote, ['nope', 1, 'branch'])).toEqual({
      ret_code: 404,
      ret_note: 'Node not initialized for queue: nope',
      last_tick: null,
    });
    for (const node of [branch, leaf]) {
      expect(await one(node.db, demote, [queue, 1, 'root'])).toMatchObject({
        ret_code: 301,
        ret_note: 'Node not root',
      });
    }
  });

  it('step 1 stops writes (repeatable); step 2 waits for a producer in flight and ticks after its event', async () => {
    const producer = await test.connect();
    await producer.query('begin');
    await producer.query(`select pgq.insert_event($1, 'data', 'in flight')`, [queue]);

    for (let i = 0; i < 2; i++) {
      expect(await one(root.db, demote, [queue, 1, 'branch'])).toEqual({
        ret_code: 200,
        ret_note: `Step 1: Writing disabled for: ${queue}`,
        last_tick: null,
      });
    }
    expect(await queueFlags(root)).toEqual({ disabled: true, external: true });
    await expectPgError(
      root.db.query(`select pgq.insert_event($1, 'data', 'late')`, [queue]),
      'Insert into queue disallowed',
    );

    const before = (await one(root.db, 'select last_tick_id from pgq.get_queue_info($1)', [queue]))
      .last_tick_id;
    const step2 = test.connect().then(async (admin) => {
      await admin.query('begin');
      const row = await one(admin, demote, [queue, 2, 'branch']);
      const role = await one(admin, 'show session_replication_role');
      await admin.query('commit');
      return { row, role: role.session_replication_role };
    });
    await expect
      .poll(async () => {
        const { rows } = await root.db.query(
          `select count(*)::int as n from pg_stat_activity
            where datname = $1 and wait_event_type = 'Lock' and query like '%demote_root%'`,
          [test.name],
        );
        return rows[0].n;
      })
      .toBe(1);
    await producer.query('commit');
    const { row, role } = await step2;
    expect(row).toEqual({
      ret_code: 200,
      ret_note: `Step 2: Inserted last tick: ${queue}`,
      last_tick: String(Number(before) + 1),
    });
    expect(role).toBe('replica');
    expect(await eventsBetween(root, before, row.last_tick)).toEqual(['in flight']);
  });

  it('step 3 makes a branch reading the new provider from the last tick', async () => {
    const top = (await one(root.db, 'select last_tick_id from pgq.get_queue_info($1)', [queue]))
      .last_tick_id;
    await root.db.query('select * from pgq_node.set_consumer_uptodate($1, $2, true)', [
      queue,
      'root_worker',
    ]);
    expect(await one(root.db, demote, [queue, 3, 'branch'])).toEqual({
      ret_code: 200,
      ret_note: `Step 3: Demoted root to branch: ${queue}`,
      last_tick: top,
    });
    expect(
      await one(root.db, 'select * from pgq_node.get_worker_state($1)', [queue]),
    ).toMatchObject({
      node_type: 'branch',
      provider_node: 'branch',
      provider_location: branch.location,
      completed_tick: top,
      uptodate: false,
    });
    expect(await one(root.db, demote, [queue, 3, 'branch'])).toMatchObject({ ret_code: 301 });
  });
});

describe('pgq_node.promote_branch', () => {
  it('enables inserts and the internal ticker, continues the tick ids, and makes the worker its own provider', async () => {
    const top = (await one(branch.db, 'select last_tick_id from pgq.get_queue_info($1)', [queue]))
      .last_tick_id;
    expect(await ret(branch.db, 'select * from pgq_node.promote_branch($1)', [queue])).toEqual({
      ret_code: 200,
      ret_note: 'Branch node promoted to root',
    });
    expect(await queueFlags(branch)).toEqual({ disabled: false, external: false });
    expect(
      await one(branch.db, 'select * from pgq_node.get_worker_state($1)', [queue]),
    ).toMatchObject({
      node_type: 'root',
      provider_node: 'branch',
      completed_tick: top,
      uptodate: false,
    });
    expect(await one(branch.db, 'select pgq_node.is_root_node($1) as r', [queue])).toEqual({
      r: true,
    });
    await branch.db.query(`select pgq.insert_event($1, 'data', 'on the new root')`, [queue]);
    const tick = await one(branch.db, 'select pgq.ticker($1) as t', [queue]);
    expect(tick.t).toBe(String(Number(top) + 1));
  });

  it('301 on a root or leaf, 404 for an unknown queue', async () => {
    expect(await ret(branch.db, 'select * from pgq_node.promote_branch($1)', [queue])).toEqual({
      ret_code: 301,
      ret_note: 'Node not branch',
    });
    expect(await ret(leaf.db, 'select * from pgq_node.promote_branch($1)', [queue])).toEqual({
      ret_code: 301,
      ret_note: 'Node not branch',
    });
    expect(await ret(leaf.db, 'select * from pgq_node.promote_branch($1)', ['nope'])).toEqual({
      ret_code: 404,
      ret_note: 'Node not initialized for queue: nope',
    });
  });
});

/**
 * The worker's hooks on a leaf (worker-hooks.ts): applyEvents writes into the subscriber in
 * the batch's own transaction (a failure rolls the batch back, nothing is completed, the same
 * batch comes again); the hooks run in their documented order; eventFilter picks data events
 * while the cascade's own still come; onConnect sets session_replication_role on the session.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchContext, CascadedWorker, type CascadeWorkerHooks } from '../../src/index.js';
import { useTestDatabase } from '../harness/database.js';
import { completedTick, createChain, sharedNodes, type TestNode, tickRoot } from './helpers.js';

const test = useTestDatabase();
const queue = 'hook q';
let root: TestNode;
let leaf: TestNode;
const workers: CascadedWorker[] = [];

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  await leaf.db.query('create table applied (ev_id bigint primary key, ev_type text, data text)');
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

function worker(hooks: CascadeWorkerHooks, onBatch?: (count: number) => void) {
  const made = new CascadedWorker({
    connection: leaf.config,
    queue,
    hooks,
    onBatch: onBatch && ((stats) => onBatch(stats.count)),
  });
  workers.push(made);
  return made;
}

async function produce(...events: [type: string, data: string][]): Promise<string> {
  for (const [type, data] of events) {
    await root.db.query('select pgq.insert_event($1, $2, $3)', [queue, type, data]);
  }
  return tickRoot(root.db, queue);
}

async function insertApplied(ctx: BatchContext, events: readonly { row: (string | null)[] }[]) {
  for (const { row } of events) {
    await ctx.subscriber.query('insert into applied values ($1, $2, $3)', [row[0], row[4], row[5]]);
  }
}

async function appliedRows(db: pg.ClientBase) {
  const { rows } = await db.query('select ev_type, data from applied order by ev_id');
  return rows.map((r) => `${r.ev_type}:${r.data}`);
}

describe('worker hooks on a leaf', () => {
  it('applyEvents writes in the batch transaction; a failure rolls it back and the batch comes again', async () => {
    const before = await completedTick(leaf.db, queue);
    const tick = await produce(['row', 'a'], ['row', 'b'], ['row', 'c']);
    let failNext = true;
    const seenBatches: number[] = [];
    const w = worker({
      async applyEvents(ctx, events) {
        seenBatches.push(ctx.batch.id);
        await insertApplied(ctx, events);
        if (failNext) {
          failNext = false;
          throw new Error('handler failed after writing');
        }
      },
    });
    await expect(w.runOnce()).rejects.toThrow('handler failed after writing');
    expect(await appliedRows(leaf.db)).toEqual([]);
    expect(await completedTick(leaf.db, queue)).toBe(before);
    const { rows } = await leaf.db.query('select cur_error from pgq_node.get_worker_state($1)', [
      queue,
    ]);
    expect(rows[0]?.cur_error).toBe('handler failed after writing');

    expect(await w.runOnce()).toBe(true);
    expect(await appliedRows(leaf.db)).toEqual(['row:a', 'row:b', 'row:c']);
    expect(await completedTick(leaf.db, queue)).toBe(tick);
    // The same provider batch both times.
    expect(seenBatches).toHaveLength(2);
    expect(seenBatches[0]).toBe(seenBatches[1]);
    await w.close();
    await leaf.db.query('truncate applied');
  });

  it('runs onConnect, beforeBatch, eventFilter, applyEvents, beforeCompleted, afterCommit in order', async () => {
    const tick = await produce(['row', 'x']);
    const calls: string[] = [];
    const w = worker({
      onConnect(_session, role) {
        calls.push(`onConnect:${role}`);
      },
      beforeBatch(ctx) {
        calls.push(`beforeBatch:${ctx.kind}:${ctx.nodeType}:${ctx.node}:${ctx.providerNode}`);
      },
      eventFilter() {
        calls.push('eventFilter');
        return null;
      },
      async applyEvents(ctx, events) {
        calls.push(`applyEvents:${events.length}`);
        await insertApplied(ctx, events);
      },
      async beforeCompleted(ctx) {
        // Still inside the transaction: the rows are there, the position has not moved.
        const { rows } = await ctx.subscriber.query(
          'select (select count(*) from applied)::int as n, completed_tick::text as t' +
            ' from pgq_node.get_worker_state($1)',
          [queue],
        );
        calls.push(`beforeCompleted:${rows[0]?.n}:${rows[0]?.t === ctx.batch.prevTick}`);
      },
      async afterCommit(ctx, stats) {
        // Committed: another session sees the rows and the new position.
        const rows = await appliedRows(leaf.db);
        const at = await completedTick(leaf.db, queue);
        calls.push(`afterCommit:${rows.length}:${at === ctx.batch.tick}:${stats.tick}`);
      },
    });
    expect(await w.runOnce()).toBe(true);
    expect(calls).toEqual([
      'onConnect:subscriber',
      'onConnect:provider',
      `beforeBatch:leaf:leaf:leaf:root`,
      'eventFilter',
      'applyEvents:1',
      'beforeCompleted:1:true',
      `afterCommit:1:true:${tick}`,
    ]);
    // A second loop on the same sessions: no second onConnect.
    await produce(['row', 'y']);
    calls.length = 0;
    expect(await w.runOnce()).toBe(true);
    expect(calls.filter((c) => c.startsWith('onConnect'))).toEqual([]);
    await w.close();
    await leaf.db.query('truncate applied');
  });

  it('eventFilter picks data events on a leaf; cascade events still come and are applied', async () => {
    await root.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'far node',
      'dbname=far',
    ]);
    await produce(['keep', '1'], ['skip', '2'], ['keep', '3']);
    let count = 0;
    const types: string[] = [];
    const w = worker(
      {
        eventFilter: () => "ev_type = 'keep'",
        async applyEvents(ctx, events) {
          types.push(...events.map((e) => e.type ?? ''));
          await insertApplied(ctx, events);
        },
      },
      (n) => {
        count += n;
      },
    );
    while (await w.runOnce()) {
      // until the leaf has every batch
    }
    expect(types).toEqual(['keep', 'keep']);
    expect(await appliedRows(leaf.db)).toEqual(['keep:1', 'keep:3']);
    // Read from the provider: the two kept events and the location event, not the skipped one.
    expect(count).toBe(3);
    const { rows } = await leaf.db.query(
      'select node_location from pgq_node.get_queue_locations($1) where node_name = $2',
      [queue, 'far node'],
    );
    expect(rows).toEqual([{ node_location: 'dbname=far' }]);
    await w.close();
    await leaf.db.query('truncate applied');
  });

  it('without eventFilter, a leaf with applyEvents gets every data event', async () => {
    await produce(['a', '1'], ['b', '2']);
    const w = worker({ applyEvents: insertApplied });
    while (await w.runOnce()) {
      // drain
    }
    expect(await appliedRows(leaf.db)).toEqual(['a:1', 'b:2']);
    await w.close();
    await leaf.db.query('truncate applied');
  });

  it('onConnect sets session_replication_role = replica: triggers stay silent during replay', async () => {
    await leaf.db.query(`
      create table audit (note text);
      create function note_insert() returns trigger language plpgsql as
        $$ begin insert into audit values ('fired'); return new; end $$;
      create trigger applied_audit after insert on applied for each row execute function note_insert();
    `);
    await produce(['row', 'replica']);
    const roles: string[] = [];
    const w = worker({
      async onConnect(session, role) {
        if (role === 'subscriber') await session.query('set session_replication_role = replica');
      },
      async applyEvents(ctx, events) {
        const { rows } = await ctx.subscriber.query(
          "select current_setting('session_replication_role') as r",
        );
        roles.push(rows[0]?.r);
        await insertApplied(ctx, events);
      },
    });
    while (await w.runOnce()) {
      // drain
    }
    expect(roles).toEqual(['replica']);
    expect(await appliedRows(leaf.db)).toEqual(['row:replica']);
    const audit = await leaf.db.query('select count(*)::int as n from audit');
    expect(audit.rows[0]?.n).toBe(0);
    // The same insert on an ordinary session fires the trigger: the test can tell.
    await leaf.db.query(`insert into applied values (-1, 'manual', 'x')`);
    const fired = await leaf.db.query('select count(*)::int as n from audit');
    expect(fired.rows[0]?.n).toBe(1);
    await w.close();
  });

  it('refuses an unknown hook and a hook that is no function, naming it', () => {
    const make = (hooks: unknown) =>
      new CascadedWorker({ connection: leaf.config, queue, hooks: hooks as CascadeWorkerHooks });
    expect(() => make({ applyBatch: async () => {} })).toThrow(
      /option hooks: unknown hook applyBatch/,
    );
    expect(() => make({ afterCommit: 'yes' })).toThrow(
      'option hooks.afterCommit must be a function',
    );
  });
});

/**
 * CascadedConsumer's contract, loop by loop: the handler's work and the position commit
 * together in the target; a batch the target already has (a crash between the target
 * commit and the provider finish) is only finished; cascade events never reach the
 * handler; a handler that throws rolls back, is stored in cur_error and retried; on a root
 * it stands by; register and unregister touch both the provider and the target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedConsumer } from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import { createChain, one, sharedNodes, type TestNode, tickRoot } from './helpers.js';

const test = useTestDatabase();
const queue = 'cc';
let root: TestNode;
let leaf: TestNode;
const consumers: CascadedConsumer[] = [];

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  await leaf.db.query('create table applied (data text)');
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close()));
});

let app: CascadedConsumer | undefined;
/** One consumer object for 'app' across the tests: it keeps the consumer's lock. */
function appConsumer() {
  app ??= consumer();
  return app;
}

function consumer(node = leaf, name = 'app') {
  const made = new CascadedConsumer({ connection: node.config, queue, consumer: name });
  consumers.push(made);
  return made;
}

async function state(name = 'app') {
  return one(leaf.db, 'select * from pgq_node.get_consumer_state($1, $2)', [queue, name]);
}

async function applied(): Promise<string[]> {
  const { rows } = await leaf.db.query('select data from applied');
  return rows.map((r) => r.data);
}

const insert = async (event: { data: string | null }, ctx: { target: import('pg').ClientBase }) => {
  await ctx.target.query('insert into applied values ($1)', [event.data]);
};

describe('CascadedConsumer', () => {
  it('registers on the provider and in the target at the same tick', async () => {
    const tick = await CascadedConsumer.register({
      connection: leaf.config,
      queue,
      consumer: 'app',
    });
    expect(await state()).toMatchObject({ completed_tick: tick, provider_node: 'root' });
    const onRoot = await one(
      root.db,
      `select last_tick::text from pgq.get_consumer_info($1, 'app')`,
      [queue],
    );
    expect(onRoot.last_tick).toBe(tick);
  });

  it('applies a batch with its position in one target transaction; cascade events skipped', async () => {
    await root.db.query(`select pgq.insert_event($1, 'data', 'a1')`, [queue]);
    await root.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'elsewhere',
      'dbname=elsewhere',
    ]);
    const tick = await tickRoot(root.db, queue);
    const types: string[] = [];
    expect(
      await appConsumer().runOnce(async (event, ctx) => {
        types.push(event.type as string);
        await insert(event, ctx);
      }),
    ).toBe(true);
    expect(types).toEqual(['data']);
    expect(await applied()).toEqual(['a1']);
    expect((await state()).completed_tick).toBe(tick);
  });

  it('a handler that throws: nothing applied, error stored, the same batch retried', async () => {
    await root.db.query(`select pgq.insert_event($1, 'data', 'b1')`, [queue]);
    await root.db.query(`select pgq.insert_event($1, 'data', 'b2')`, [queue]);
    const tick = await tickRoot(root.db, queue);
    const before = (await state()).completed_tick;
    const c = appConsumer();
    await expect(
      c.runOnce(async (event, ctx) => {
        await insert(event, ctx);
        if (event.data === 'b2') throw new Error('handler broke on b2');
      }),
    ).rejects.toThrow('handler broke on b2');
    expect(await applied()).toEqual(['a1']);
    expect(await state()).toMatchObject({
      completed_tick: before,
      cur_error: 'handler broke on b2',
    });
    expect(await c.runOnce(insert)).toBe(true);
    expect(await applied()).toEqual(['a1', 'b1', 'b2']);
    expect(await state()).toMatchObject({ completed_tick: tick, cur_error: null });
  });

  it('a batch the target already has is only finished on the provider', async () => {
    await root.db.query(`select pgq.insert_event($1, 'data', 'c1')`, [queue]);
    const tick = await tickRoot(root.db, queue);
    // As if the target had committed the batch and the process died before finishing it.
    await leaf.db.query('select * from pgq_node.set_consumer_completed($1, $2, $3)', [
      queue,
      'app',
      tick,
    ]);
    const handler = async () => {
      throw new Error('must not be called');
    };
    expect(await appConsumer().runOnce(handler)).toBe(true);
    const onRoot = await one(
      root.db,
      `select last_tick::text from pgq.get_consumer_info($1, 'app')`,
      [queue],
    );
    expect(onRoot.last_tick).toBe(tick);
    expect(await applied()).toEqual(['a1', 'b1', 'b2']);
  });

  it('stands by on a root node', async () => {
    await CascadedConsumer.register({ connection: root.config, queue, consumer: 'on_root' });
    const c = consumer(root, 'on_root');
    await root.db.query(`select pgq.insert_event($1, 'data', 'r1')`, [queue]);
    await tickRoot(root.db, queue);
    expect(await c.runOnce(insert)).toBe(false);
  });

  it('unregisters from the provider and the target', async () => {
    await CascadedConsumer.unregister({ connection: leaf.config, queue, consumer: 'app' });
    const { rows } = await root.db.query(
      `select 1 from pgq.get_consumer_info($1) where consumer_name = 'app'`,
      [queue],
    );
    expect(rows).toEqual([]);
    await expect(state()).resolves.toMatchObject({ ret_code: 404 });
  });
});

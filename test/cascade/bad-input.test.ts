/**
 * What the worker and the cascaded consumer say when the cascade is not as it should be:
 * no node for the queue, a provider that does not answer (stored in cur_error, retried,
 * recovered from), a role that may not set session_replication_role, a lost position, and
 * a second worker for the same node.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedConsumer, CascadedWorker, CascadeError } from '../../src/cascade/index.js';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import { findFreePort } from '../../src/pg/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  background,
  completedTick,
  createChain,
  createRoot,
  createSubscriber,
  one,
  queueTop,
  sharedNodes,
  type TestNode,
  tickRoot,
  waitFor,
} from './helpers.js';

const test = useTestDatabase();
const role = `${test.name}_w`;
let root: TestNode;
let branch: TestNode;
let owned: string | undefined;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  if (owned) await test.query(`drop database if exists ${quoteIdent(owned)} with (force)`);
  await test.query(`drop role if exists ${quoteIdent(role)}`);
});

function worker(node: TestNode, queue: string, extra: object = {}) {
  const made = new CascadedWorker({ connection: node.config, queue, retryDelay: 0.1, ...extra });
  closers.push(() => made.close());
  return made;
}

async function workerState(node: TestNode, queue: string) {
  return one(node.db, 'select * from pgq_node.get_worker_state($1)', [queue]);
}

describe('bad input for the cascaded worker and consumer', () => {
  it('a queue without a node here: a clear error, for the worker and the consumer', async () => {
    const error = await worker(root, 'nowhere')
      .runOnce()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CascadeError);
    expect(error).toMatchObject({
      code: 'NODE_NOT_FOUND',
      message:
        'queue "nowhere" has no cascade node in this database (Unknown queue: nowhere); create the node first (skytools set create-root/create-branch/create-leaf)',
      context: { queue: 'nowhere' },
    });
    const consumer = new CascadedConsumer({
      connection: root.config,
      queue: 'nowhere',
      consumer: 'c',
    });
    closers.push(() => consumer.close());
    await expect(consumer.runOnce(() => {})).rejects.toMatchObject({
      code: 'CONSUMER_NOT_REGISTERED',
      context: { queue: 'nowhere', consumer: 'c' },
    });
    await expect(
      CascadedConsumer.register({ connection: root.config, queue: 'nowhere', consumer: 'c' }),
    ).rejects.toMatchObject({ code: 'CASCADE_REFUSED', message: /^Unknown queue: nowhere/ });
  });

  it('a provider that does not answer: error stored, retried, and gone once it answers', async () => {
    const queue = 'unreachable';
    await createChain(queue, [root, branch]);
    const port = await findFreePort();
    await branch.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'root',
      `host=127.0.0.1 port=${port} user=postgres dbname=gone connect_timeout=2`,
    ]);
    await root.db.query(`select pgq.insert_event($1, 'data', 'waiting')`, [queue]);
    const tick = await tickRoot(root.db, queue);
    const run = background((signal) =>
      new CascadedWorker({
        connection: branch.config,
        queue,
        loopDelay: 0.05,
        retryDelay: 0.1,
      }).run({ signal }),
    );
    closers.push(() => run.stop());
    await waitFor(
      async () => /does not answer/.test((await workerState(branch, queue)).cur_error ?? ''),
      'the error to be stored',
    );
    expect((await workerState(branch, queue)).cur_error).toMatch(
      /^node root of queue unreachable does not answer: /,
    );
    expect(await completedTick(branch.db, queue)).toBe('1');
    await branch.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'root',
      root.location,
    ]);
    await waitFor(async () => (await completedTick(branch.db, queue)) === tick, 'recovery');
    await waitFor(async () => (await workerState(branch, queue)).cur_error === null, 'cleared');
    // The branch makes the provider's tick in its own queue just after the batch commits.
    await waitFor(async () => (await queueTop(branch.db, queue)) === tick, 'the tick made here');
  });

  it('a role that may not set session_replication_role is told what to grant', async () => {
    const queue = 'managed';
    await test.query(`create role ${quoteIdent(role)} login nosuperuser nocreaterole`);
    owned = await test.createDatabase('owned', { owner: role });
    const config = test.config({ database: owned, user: role });
    const db = new pg.Client(config);
    db.on('error', () => {});
    await db.connect();
    closers.push(() => db.end());
    await installSchemas(db, ['pgq', 'pgq_node']);
    const node: TestNode = { name: 'managed', config, location: `dbname=${owned}`, db };
    await createRoot(root, queue);
    await createSubscriber(node, root, queue, 'branch');
    await root.db.query(`select pgq.insert_event($1, 'data', 'x')`, [queue]);
    const tick = await tickRoot(root.db, queue);

    const w = worker(node, queue);
    const error = await w.runOnce().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'REPLICA_ROLE_DENIED',
      message: `the cascaded worker of queue managed on node managed must set session_replication_role = replica to copy events into the branch queue, and role ${role} may not: run \`GRANT SET ON PARAMETER session_replication_role TO ${role}\` as a superuser (PostgreSQL 15+), or run the worker as a superuser`,
    });
    expect((await workerState(node, queue)).cur_error).toMatch(/GRANT SET ON PARAMETER/);
    expect(await completedTick(db, queue)).toBe('1');
    if (test.cluster.pgMajor >= 15) {
      // What the message says is enough.
      await test.query(`grant set on parameter session_replication_role to ${quoteIdent(role)}`);
      expect(await w.runOnce()).toBe(true);
      expect(await completedTick(db, queue)).toBe(tick);
      expect(await queueTop(db, queue)).toBe(tick);
      await test.query(`revoke set on parameter session_replication_role from ${quoteIdent(role)}`);
    }
  });

  it('a consumer whose target position does not fit the provider batch: Lost position', async () => {
    const queue = 'lost';
    await createChain(queue, [root, branch]);
    await CascadedConsumer.register({ connection: branch.config, queue, consumer: 'app' });
    await root.db.query(`select pgq.insert_event($1, 'data', 'x')`, [queue]);
    await tickRoot(root.db, queue);
    expect(await worker(branch, queue).runOnce()).toBe(true);
    await branch.db.query('select * from pgq_node.set_consumer_completed($1, $2, 999)', [
      queue,
      'app',
    ]);
    const consumer = new CascadedConsumer({ connection: branch.config, queue, consumer: 'app' });
    closers.push(() => consumer.close());
    const error = await consumer.runOnce(() => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'LOST_POSITION',
      message: expect.stringMatching(
        /^Lost position: queue lost, consumer app is at tick 999 on node branch, but its next batch \d+ on provider root goes from tick 1 to 2$/,
      ),
      context: { queue, consumer: 'app', completedTick: '999', prevTick: '1', tick: '2' },
    });
    expect(
      (await one(branch.db, 'select * from pgq_node.get_consumer_state($1, $2)', [queue, 'app']))
        .cur_error,
    ).toMatch(/^Lost position/);
  });

  it('a second worker for the same node and queue is refused', async () => {
    const queue = 'unreachable';
    const first = worker(root, queue);
    const second = worker(root, queue);
    await first.runOnce();
    await expect(second.runOnce()).rejects.toMatchObject({
      code: 'WORKER_LOCKED',
      message: expect.stringMatching(/^a cascaded worker for queue "unreachable" already runs/),
    });
  });
});

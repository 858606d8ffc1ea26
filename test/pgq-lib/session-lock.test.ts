/**
 * The one-process-per-consumer lock is per database: a consumer of the same queue and name in
 * another database is a different consumer. A refusal names the holder in this database.
 */
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../src/pgq/consumer.js';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register } from './helpers.js';

const db = useTestDatabase();

describe('the consumer lock', () => {
  it('names the holder of its own database, not one of another database', async () => {
    const other = await db.createDatabase('other', { template: db.cluster.templateDatabase });
    const here = await db.connect();
    const there = await db.connect({ database: other });
    for (const client of [here, there]) {
      await makeQueue(client, 'locked');
      await register(client, 'locked', 'c');
    }
    // Holders of the same key in both databases; the one over there started first.
    const lockSql = "select pg_advisory_lock(hashtext('pgq.consumer locked'), hashtext('c'))";
    await there.query(lockSql);
    await here.query(lockSql);
    const herePid = (await here.query('select pg_backend_pid() as pid')).rows[0]?.pid;
    const consumer = new Consumer({ connection: db.config(), queue: 'locked', consumer: 'c' });
    await expect(consumer.run(() => {})).rejects.toMatchObject({
      code: 'CONSUMER_LOCKED',
      context: { pid: herePid },
    });
    // The other database's holder does not stop a consumer here once this one is gone.
    await here.query("select pg_advisory_unlock(hashtext('pgq.consumer locked'), hashtext('c'))");
    const stop = new AbortController();
    const running = consumer.run(() => {}, { signal: stop.signal });
    const deadline = Date.now() + 20_000;
    let holder: number | undefined;
    while (holder === undefined && Date.now() < deadline) {
      const { rows } = await here.query<{ pid: number }>(
        `select l.pid from pg_locks l where l.locktype = 'advisory' and l.granted
            and l.database = (select oid from pg_database where datname = current_database())`,
      );
      holder = rows[0]?.pid;
      if (holder === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(holder).toBeDefined();
    expect(holder).not.toBe(herePid);
    stop.abort();
    await running;
  });
});

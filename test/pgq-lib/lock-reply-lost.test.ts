/**
 * The network drops just as the consumer takes its lock: the server grants the advisory lock,
 * the reply never arrives. The lingering session holds the lock, and the consumer never saw
 * the reply that named it; it must still know that session as its own (it notes each
 * session's pid before the lock attempt), end it and go on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick, waitFor } from './helpers.js';
import { relay, relayedConsumer } from './relay.js';

const db = useTestDatabase();

describe('a lock reply lost on the network', () => {
  const proxy = relay(db.cluster.host, db.cluster.port, {
    cutAfterSending: 'pg_try_advisory_lock',
  });
  afterAll(() => proxy.close());

  it('ends its own session that took the lock, then consumes', async () => {
    await makeQueue(db, 'lost');
    await register(db, 'lost', 'c');
    const port = await proxy.listen();
    const { log, seen, failure, stop, running } = relayedConsumer(db, port, 'lost', {
      // The relay lets the new session in only after the cut one's lock statement has run.
      reconnectDelay: 0.05,
      applicationName: 'lost-reply-consumer',
    });
    await waitFor(
      async () => failure() !== undefined || log.lines.some((l) => l.msg === 'reconnected'),
      'the consumer to reconnect',
    );
    expect(failure()).toBeUndefined();
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toContain(
      'our previous session still holds the lock: terminating it',
    );
    await db.query(`select pgq.insert_event('lost', 'n', 'after')`);
    await tick(db, 'lost');
    await waitFor(async () => seen.length === 1 || failure() !== undefined, 'the event');
    stop();
    await running;
    expect(failure()).toBeUndefined();
    expect(seen).toEqual(['after']);
  });
});

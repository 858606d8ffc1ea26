/**
 * The one error model: real server failures (a missing queue, no pgq schema, a lock timeout,
 * a serialization failure, a killed backend) reach the caller of the library as our typed
 * errors, classed by SQLSTATE, with the server's own text, the queue and consumer named, and
 * pg's error kept as `cause`.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  DatabaseFailure,
  failureOf,
  fromDatabaseError,
  isConnectionLost,
} from '../../src/db/database-error.js';
import { SkytoolsError } from '../../src/errors.js';
import { isSessionLost } from '../../src/pgq/consumer-connection.js';
import { Consumer, registerConsumer, unregisterConsumer } from '../../src/pgq/index.js';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, waitFor } from '../pgq-lib/helpers.js';

const db = useTestDatabase();

/** The rejection of `promise`, which must be a DatabaseFailure. */
async function failureFrom(promise: Promise<unknown>): Promise<DatabaseFailure> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatabaseFailure);
  return error as DatabaseFailure;
}

describe('the library rejects with typed errors', () => {
  it('a missing queue: PgQ P0001 with upstream text, permanent', async () => {
    const error = await failureFrom(registerConsumer(db.pool(), 'no_such_queue', 'c1'));
    expect(error).toMatchObject({
      code: 'PGQ_ERROR',
      kind: 'pgq',
      transient: false,
      sqlstate: 'P0001',
      serverMessage: 'Event queue not created yet',
      message:
        'register_consumer for consumer "c1" on queue "no_such_queue": Event queue not created yet',
      context: { queue: 'no_such_queue', consumer: 'c1', sqlstate: 'P0001' },
    });
    expect(error.cause).toBeInstanceOf(pg.DatabaseError);
    expect(error).toBeInstanceOf(SkytoolsError);
  });

  it('no pgq in the database: missing-object for register and for a running consumer', async () => {
    const bare = await db.createDatabase('bare');
    const config = db.config({ database: bare });
    const registering = await failureFrom(
      new Consumer({ connection: config, queue: 'q', consumer: 'c' }).register(),
    );
    expect(registering).toMatchObject({
      code: 'MISSING_OBJECT',
      kind: 'missing-object',
      transient: false,
      sqlstate: '3F000',
      message: 'register_consumer for consumer "c" on queue "q": schema "pgq" does not exist',
    });
    const running = await failureFrom(
      new Consumer({ connection: config, queue: 'q', consumer: 'c' }).run(() => {}),
    );
    expect(running).toMatchObject({ kind: 'missing-object', transient: false });
    expect(running.message).toMatch(/^starting for consumer "c" on queue "q": relation /);
    expect(failureOf(running)).toEqual({ kind: 'missing-object', transient: false });
  });

  it('a function the schema lacks (42883) is a missing object too', async () => {
    const client = await db.connect();
    const error = fromDatabaseError(
      await client.query('select pgq.no_such_function()').catch((e: unknown) => e),
      { queue: 'q' },
    );
    expect(error).toMatchObject({ kind: 'missing-object', sqlstate: '42883', transient: false });
    expect(error.message).toMatch(
      /^on queue "q": function pgq\.no_such_function\(\) does not exist$/,
    );
    await client.end();
  });

  it('a lock timeout (55P03) is transient and names queue and consumer', async () => {
    await makeQueue(db, 'lockq');
    const holder = await db.connect();
    await holder.query('begin');
    await holder.query('lock table pgq.subscription in access exclusive mode');
    const error = await failureFrom(
      new Consumer({
        connection: db.config({ options: '-c lock_timeout=200' }),
        queue: 'lockq',
        consumer: 'c',
      }).register(),
    );
    await holder.query('rollback');
    await holder.end();
    expect(error).toMatchObject({
      code: 'LOCK_NOT_AVAILABLE',
      kind: 'lock',
      transient: true,
      sqlstate: '55P03',
      context: { queue: 'lockq', consumer: 'c' },
    });
    expect(error.message).toMatch(/^register_consumer for consumer "c" on queue "lockq": /);
    expect(error.serverMessage).toBe((error.cause as Error).message);
  });

  it('a serialization failure (40001) is transient', async () => {
    await makeQueue(db, 'serq');
    await register(db, 'serq', 'c');
    const reader = await db.connect();
    await reader.query('begin isolation level repeatable read');
    await reader.query('select count(*) from pgq.subscription');
    await unregisterConsumer(db.pool(), 'serq', 'c');
    const error = await failureFrom(unregisterConsumer(reader, 'serq', 'c'));
    await reader.query('rollback');
    await reader.end();
    expect(error).toMatchObject({
      code: 'SERIALIZATION_FAILURE',
      kind: 'serialization',
      transient: true,
      sqlstate: '40001',
    });
    expect(error.message).toMatch(/^unregister_consumer for consumer "c" on queue "serq": /);
  });

  it('a killed backend (57P01) is a lost connection, transient', async () => {
    await makeQueue(db, 'killq');
    const holder = await db.connect();
    await holder.query('begin');
    await holder.query('lock table pgq.subscription in access exclusive mode');
    const victim = new pg.Client(db.config({ application_name: 'errors-victim' }));
    victim.on('error', () => {}); // the end of the killed session is expected
    await victim.connect();
    // Its rejection is taken at once: it may come before the test awaits it.
    const registering = failureFrom(registerConsumer(victim, 'killq', 'c'));
    let pid: number | undefined;
    await waitFor(async () => {
      const { rows } = await db.query<{ pid: number }>(
        `select pid from pg_stat_activity
          where application_name = 'errors-victim' and wait_event_type = 'Lock'`,
      );
      pid = rows[0]?.pid;
      return pid !== undefined;
    }, 'the register call to wait for the lock');
    await db.query('select pg_terminate_backend($1)', [pid]);
    const error = await registering;
    await holder.query('rollback');
    await holder.end();
    await victim.end().catch(() => {});
    expect(error).toMatchObject({
      code: 'CONNECTION_LOST',
      kind: 'connection-lost',
      transient: true,
      sqlstate: '57P01',
      context: { queue: 'killq', consumer: 'c' },
    });
    expect(isConnectionLost(error)).toBe(true);
    expect(isSessionLost(error)).toBe(true);
  });
});

describe('failureOf', () => {
  it('classes socket and client errors as a lost connection, by code', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(failureOf(reset)).toEqual({ kind: 'connection-lost', transient: true });
    expect(failureOf(new Error('Connection terminated unexpectedly')).kind).toBe('connection-lost');
    expect(failureOf(new Error('something else')).kind).toBe('other');
  });

  it('judges a failed connect by its cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const down = new SkytoolsError('CONNECT_FAILED', 'x', {}, { cause: refused });
    expect(failureOf(down)).toEqual({ kind: 'connection-lost', transient: true });
    expect(isSessionLost(down)).toBe(true);
  });

  it('a missing database ends reconnecting', async () => {
    const error = await new pg.Client(db.config({ database: 'no_such_database_here' }))
      .connect()
      .catch((e: unknown) => e);
    const failed = new SkytoolsError('CONNECT_FAILED', 'x', {}, { cause: error });
    expect(failureOf(failed)).toEqual({ kind: 'missing-object', transient: false });
    expect(isSessionLost(failed)).toBe(false);
  });

  it('our own codes: a gone node or a bad option is permanent, the rest retried', () => {
    expect(failureOf(new SkytoolsError('NODE_NOT_FOUND', 'x')).transient).toBe(false);
    expect(failureOf(new SkytoolsError('BAD_OPTION', 'x')).transient).toBe(false);
    expect(failureOf(new SkytoolsError('LOST_POSITION', 'x')).transient).toBe(true);
    expect(failureOf(new SkytoolsError('MISSING_OBJECT', 'x'))).toEqual({
      kind: 'missing-object',
      transient: false,
    });
    const mine = new SkytoolsError('QUEUE_NOT_FOUND', 'x');
    expect(fromDatabaseError(mine)).toBe(mine);
  });
});

import { describe, expect, it } from 'vitest';
import { SkytoolsError } from '../../src/errors.js';
import { insertEvent, ProduceError, Producer } from '../../src/pgq/producer.js';
import { expectPgError } from '../harness/assertions.js';
import { useTestDatabase } from '../harness/database.js';
import { consumeAllSql, inTransaction, makeQueue, register, tick } from './helpers.js';

const db = useTestDatabase();

describe('insertEvent on the caller client', () => {
  it('commits with the caller transaction: JSON payload, type and extras', async () => {
    await makeQueue(db, 'orders');
    await register(db, 'orders', 'c');
    await db.query('create table business (id int)');
    const client = await db.connect();
    const id = await inTransaction(client, async () => {
      await client.query('insert into business values (1)');
      return insertEvent(client, 'orders', {
        type: 'order.created',
        data: { id: 42, note: 'ünï\t"x"' },
        extra1: 'public.orders',
        extra4: 'four',
      });
    });
    expect(id).toMatch(/^\d+$/);
    await tick(db, 'orders');
    const events = await consumeAllSql(db, 'orders', 'c');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      ev_id: id,
      ev_type: 'order.created',
      ev_data: JSON.stringify({ id: 42, note: 'ünï\t"x"' }),
      ev_extra1: 'public.orders',
      ev_extra2: null,
      ev_extra3: null,
      ev_extra4: 'four',
    });
  });

  it('rolls back with the caller transaction: the event never appears', async () => {
    await makeQueue(db, 'rolled');
    await register(db, 'rolled', 'c');
    const client = await db.connect();
    await client.query('begin');
    await insertEvent(client, 'rolled', { type: 't', data: 1 });
    await client.query('rollback');
    await insertEvent(
      client,
      'rolled',
      { type: 'kept', data: 'raw text', extra2: 'x' },
      {
        raw: true,
      },
    );
    await tick(db, 'rolled');
    const events = await consumeAllSql(db, 'rolled', 'c');
    expect(events.map((e) => [e.ev_type, e.ev_data, e.ev_extra2])).toEqual([
      ['kept', 'raw text', 'x'],
    ]);
  });

  it('stores null data and a null type', async () => {
    await makeQueue(db, 'nulls');
    await register(db, 'nulls', 'c');
    await insertEvent(db, 'nulls', { type: null });
    await insertEvent(db, 'nulls', { type: 'n', data: null });
    await tick(db, 'nulls');
    const events = await consumeAllSql(db, 'nulls', 'c');
    expect(events.map((e) => [e.ev_type, e.ev_data])).toEqual([
      [null, null],
      ['n', 'null'],
    ]);
  });

  it('refuses bad input with a clear error and writes nothing', async () => {
    await makeQueue(db, 'bad');
    await register(db, 'bad', 'c');
    await expectPgError(insertEvent(db, 'no such queue', { type: 't', data: 1 }), 'No such queue');
    await expect(
      insertEvent(db, 'bad', { type: 't', data: 5 }, { raw: true }),
    ).rejects.toMatchObject({
      code: 'BAD_EVENT',
      message: 'raw event data must be a string or null, got number',
      context: { queue: 'bad', type: 't' },
    });
    await expect(insertEvent(db, 'bad', { type: 't', data: () => 1 })).rejects.toMatchObject({
      code: 'BAD_EVENT',
      message: 'event data of type function has no JSON form',
    });
    await expect(
      insertEvent(db, 'bad', { type: 't', data: 1, extra3: 7 as unknown as string }),
    ).rejects.toMatchObject({
      code: 'BAD_EVENT',
      message: 'event field extra3 must be a string or null',
    });
    await tick(db, 'bad');
    expect(await consumeAllSql(db, 'bad', 'c')).toEqual([]);
  });
});

describe('Producer on a pool (fire and forget)', () => {
  it('sends events that commit on their own; flush waits for them', async () => {
    await makeQueue(db, 'fire');
    await register(db, 'fire', 'c');
    const pool = db.pool({ max: 4 });
    const producer = new Producer(pool, 'fire');
    for (let i = 0; i < 50; i++) producer.send({ type: 'n', data: { i } });
    await producer.flush();
    expect(await producer.insert({ type: 'last', data: null })).toMatch(/^\d+$/);
    await tick(db, 'fire');
    const events = await consumeAllSql(db, 'fire', 'c');
    expect(events).toHaveLength(51);
    const numbers = events
      .filter((e) => e.ev_type === 'n')
      .map((e) => JSON.parse(e.ev_data ?? '').i);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects flush with the queue and the count when sends failed and no onError is given', async () => {
    const pool = db.pool({ max: 2 });
    const producer = new Producer(pool, 'missing queue');
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      producer.send({ type: 'a', data: 1 });
      producer.send({ type: 'b', data: 2 });
      const error = await producer.flush().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProduceError);
      expect(error).toMatchObject({
        code: 'PRODUCE_FAILED',
        message: '2 events not inserted into queue missing queue: No such queue',
        context: { queue: 'missing queue', failed: 2 },
        queue: 'missing queue',
      });
      expect((error as ProduceError).events.map((e) => e.type).sort()).toEqual(['a', 'b']);
      // A flush was waiting: the rejection reports it, no process warning besides.
      expect(warnings).toEqual([]);
      // Reported once: the next flush has nothing left to say.
      await producer.flush();
      expect(producer.failedCount).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('warns on the process when a send fails while nobody flushes, and still rejects the next flush', async () => {
    const pool = db.pool({ max: 1 });
    const producer = new Producer(pool, 'missing queue');
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    producer.send({ type: 't', data: 1 });
    const warning = await warned;
    expect(warning.name).toBe('ProduceWarning');
    expect(warning.message).toBe(
      'cannot insert event into queue missing queue: No such queue (reported by the next flush())',
    );
    expect(producer.failedCount).toBe(1);
    await expect(producer.flush()).rejects.toMatchObject({
      code: 'PRODUCE_FAILED',
      context: { queue: 'missing queue', failed: 1 },
    });
  });

  it('reports the event to flush when the onError callback throws', async () => {
    const pool = db.pool({ max: 1 });
    let called = 0;
    const producer = new Producer(pool, 'missing queue', {
      onError: () => {
        called++;
        throw new Error('callback bug');
      },
    });
    producer.send({ type: 't', data: 1 });
    await expect(producer.flush()).rejects.toMatchObject({
      code: 'PRODUCE_FAILED',
      message: expect.stringContaining('(and onError threw: callback bug)'),
    });
    expect(called).toBe(1);
  });

  it('reports a failed send to onError without rejecting', async () => {
    const pool = db.pool({ max: 1 });
    const failures: SkytoolsError[] = [];
    const producer = new Producer(pool, 'missing queue', {
      onError: (error) => failures.push(error),
    });
    producer.send({ type: 't', data: 1 });
    await producer.flush();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(SkytoolsError);
    expect(failures[0]?.message).toBe(
      'cannot insert event into queue missing queue: No such queue',
    );
    expect(failures[0]?.context).toMatchObject({ queue: 'missing queue', type: 't' });
  });
});

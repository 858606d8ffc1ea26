import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  batchEvents,
  collectNotices,
  coopFinish,
  coopNext,
  eventPerTick,
  expectPgError,
  hostileNames,
  makeQueue,
  metaState,
  registerSub,
  subRow,
} from './coop-helpers.js';

const db = useTestDatabase();

describe('pgq_coop bad input', () => {
  it('unknown queue: upstream text from every entry point, nothing written', async () => {
    const before = await metaState(db);
    await expectPgError(registerSub(db, 'no such queue', 'c', 's'), 'Event queue not created yet');
    await expectPgError(coopNext(db, 'no such queue', 'c', 's'), 'Event queue not created yet');
    await expectPgError(
      coopNext(db, 'no such queue', 'c', 's', '1 hour'),
      'Event queue not created yet',
    );
    await expectPgError(
      db.query("select pgq_coop.next_batch_custom('no such queue', 'c', 's', null, 1, null)"),
      'Event queue not created yet',
    );
    expect(await metaState(db)).toBe(before);
  });

  it('NULL names are refused before anything is written', async () => {
    await makeQueue(db, 'nulls');
    const before = await metaState(db);
    await expectPgError(registerSub(db, 'nulls', null as never, 's'), 'Invalid NULL value');
    await expectPgError(registerSub(db, 'nulls', 'c', null as never), 'Invalid NULL value');
    await expectPgError(coopNext(db, 'nulls', 'c', null as never), 'Invalid NULL value');
    await expectPgError(coopNext(db, 'nulls', null as never, 's'), 'Invalid NULL value');
    await expectPgError(coopNext(db, null as never, 'c', 's'), 'Event queue not created yet');
    expect(await metaState(db)).toBe(before);
    const unreg = await db.query('select pgq_coop.unregister_subconsumer($1, $2, $3, 1) as r', [
      'nulls',
      'c',
      null,
    ]);
    expect(unreg.rows[0]?.r).toBe(0);
  });

  it('finish_batch(NULL) warns and returns 0', async () => {
    const client = await db.connect();
    const { result, notices } = await collectNotices(client, () =>
      client.query('select pgq_coop.finish_batch(null) as r'),
    );
    expect(result.rows[0]?.r).toBe(0);
    expect(notices.map((n) => n.message)).toEqual(['coop_finish_batch: batch <NULL> not found']);
  });

  it('main consumer with a batch of its own (used through pgq.next_batch): refused', async () => {
    await makeQueue(db, 'mainopen');
    await registerSub(db, 'mainopen', 'main', 'a');
    await eventPerTick(db, 'mainopen', ['e']);
    const direct = await db.query("select pgq.next_batch('mainopen', 'main') as b");
    expect(direct.rows[0]?.b).not.toBeNull();
    const before = await metaState(db);
    await expectPgError(coopNext(db, 'mainopen', 'main', 'a'), 'main consumer has batch open?');
    expect(await metaState(db)).toBe(before);
  });

  it('a plain consumer named like a subconsumer is not taken for one', async () => {
    await makeQueue(db, 'plain');
    await db.query("select pgq.register_consumer('plain', 'main')");
    await db.query("select pgq.register_consumer('plain', 'main.x')");
    await eventPerTick(db, 'plain', ['e']);
    const before = await metaState(db);
    expect(await registerSub(db, 'plain', 'main', 'x')).toBe(0);
    await expectPgError(coopNext(db, 'plain', 'main', 'x'), 'subconsumer not found');
    expect(await metaState(db)).toBe(before);
  });

  it('names that join to the same "<consumer>.<subconsumer>" do not share a row by accident', async () => {
    await makeQueue(db, 'joined');
    expect(await registerSub(db, 'joined', 'a', 'b.c')).toBe(1);
    // 'a.b' + '.' + 'c' is the same consumer name, but belongs to main consumer 'a'.
    expect(await registerSub(db, 'joined', 'a.b', 'c')).toBe(0);
    await expectPgError(coopNext(db, 'joined', 'a.b', 'c'), 'subconsumer not found');
    expect(await coopNext(db, 'joined', 'a', 'b.c')).toBeNull();
  });

  it('hostile queue, consumer and subconsumer names work and inject nothing', async () => {
    await db.query('create table victim (id int)');
    await db.query('insert into victim values (1)');
    for (const [i, name] of hostileNames.entries()) {
      const queue = `q ${name}`;
      await makeQueue(db, queue);
      const sub = hostileNames[(i + 1) % hostileNames.length] as string;
      expect(await registerSub(db, queue, name, sub)).toBe(1);
      await eventPerTick(db, queue, [name]);
      const batch = (await coopNext(db, queue, name, sub, '1 hour')) as number;
      expect((await batchEvents(db, batch)).map((ev) => ev.ev_data)).toEqual([name]);
      expect((await subRow(db, queue, `${name}.${sub}`)).batch).toBe(batch);
      expect(await coopFinish(db, batch)).toBe(1);
      const unreg = await db.query('select pgq_coop.unregister_subconsumer($1, $2, $3, 0) as r', [
        queue,
        name,
        sub,
      ]);
      expect(unreg.rows[0]?.r).toBe(1);
    }
    const { rows } = await db.query('select count(*)::int as n from victim');
    expect(rows[0]?.n).toBe(1);
  });
});

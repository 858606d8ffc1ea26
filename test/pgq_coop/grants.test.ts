import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { canExecute as mayExecute, useLoginRoles } from '../harness/grants.js';
import { eventPerTick, makeQueue } from './coop-helpers.js';

const db = useTestDatabase();

const readerFunctions = [
  'pgq_coop.register_subconsumer(text,text,text)',
  'pgq_coop.unregister_subconsumer(text,text,text,integer)',
  'pgq_coop.next_batch(text,text,text)',
  'pgq_coop.next_batch(text,text,text,interval)',
  'pgq_coop.next_batch_custom(text,text,text,interval,integer,interval)',
  'pgq_coop.next_batch_custom(text,text,text,interval,integer,interval,interval)',
  'pgq_coop.finish_batch(bigint)',
];
const publicFunctions = ['pgq_coop.version()', 'pgq_coop.skytools_version()'];

const { reader, nobody } = useLoginRoles(db, { reader: 'pgq_reader', nobody: null });
const canExecute = (role: string, fn: string) => mayExecute(db, role, fn);

describe('pgq_coop grants', () => {
  it('pgq_reader may call every function; PUBLIC only the version functions', async () => {
    const { rows } = await db.query(
      `select p.oid::regprocedure::text as fn from pg_proc p
        where p.pronamespace = 'pgq_coop'::regnamespace order by 1`,
    );
    const all = rows.map((row) => row.fn.replaceAll(' ', ''));
    expect(all.sort()).toEqual([...readerFunctions, ...publicFunctions].sort());
    for (const fn of readerFunctions) {
      expect([fn, await canExecute(reader, fn)]).toEqual([fn, true]);
      expect([fn, await canExecute(nobody, fn)]).toEqual([fn, false]);
    }
    for (const fn of publicFunctions) expect(await canExecute(nobody, fn)).toBe(true);
  });

  it('every function that writes runs as the owner with a pinned search_path', async () => {
    const { rows } = await db.query(
      `select p.oid::regprocedure::text as fn, p.prosecdef as definer, p.proconfig as config
         from pg_proc p where p.pronamespace = 'pgq_coop'::regnamespace`,
    );
    for (const row of rows) {
      const fn = row.fn.replaceAll(' ', '');
      if (publicFunctions.includes(fn)) continue;
      expect([fn, row.definer, row.config]).toEqual([
        fn,
        true,
        ['search_path=pg_catalog, pg_temp'],
      ]);
    }
  });

  it('a member of pgq_reader runs the whole cycle without any table rights', async () => {
    await makeQueue(db, 'roles');
    await eventPerTick(db, 'roles', ['e']);
    const client = await db.connect({ user: reader });
    await client.query("select pgq_coop.register_subconsumer('roles', 'main', 'a')");
    await eventPerTick(db, 'roles', ['f']);
    const batch = (await client.query("select pgq_coop.next_batch('roles', 'main', 'a') as b"))
      .rows[0]?.b;
    const events = await client.query('select ev_data from pgq.get_batch_events($1)', [batch]);
    expect(events.rows).toEqual([{ ev_data: 'f' }]);
    expect((await client.query('select pgq_coop.finish_batch($1) as r', [batch])).rows[0]?.r).toBe(
      1,
    );
    expect(
      (await client.query("select pgq_coop.unregister_subconsumer('roles', 'main', 'a', 0) as r"))
        .rows[0]?.r,
    ).toBe(1);
  });

  it('anyone else is refused', async () => {
    const client = await db.connect({ user: nobody });
    await expect(
      client.query("select pgq_coop.next_batch('roles', 'main', 'b')"),
    ).rejects.toMatchObject({
      code: '42501',
      message: 'permission denied for function next_batch',
    });
    const { rows } = await client.query('select pgq_coop.version() as v');
    expect(rows[0]?.v).toBe('3.4');
  });
});

import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { canExecute as mayExecute, useLoginRoles } from '../harness/grants.js';

const db = useTestDatabase();

const writerFunctions = [
  'pgq_ext.is_batch_done(text,text,bigint)',
  'pgq_ext.is_batch_done(text,bigint)',
  'pgq_ext.set_batch_done(text,text,bigint)',
  'pgq_ext.set_batch_done(text,bigint)',
  'pgq_ext.is_event_done(text,text,bigint,bigint)',
  'pgq_ext.is_event_done(text,bigint,bigint)',
  'pgq_ext.set_event_done(text,text,bigint,bigint)',
  'pgq_ext.set_event_done(text,bigint,bigint)',
  'pgq_ext.get_last_tick(text,text)',
  'pgq_ext.get_last_tick(text)',
  'pgq_ext.set_last_tick(text,text,bigint)',
  'pgq_ext.set_last_tick(text,bigint)',
  'pgq_ext.upgrade_schema()',
];
const publicFunctions = ['pgq_ext.version()', 'pgq_ext.skytools_version()'];
// The full forms (with subconsumer) run as the owner; the short forms call them.
const definers = writerFunctions.filter(
  (fn) => fn.includes('(text,text,') || fn.endsWith('(text,text)'),
);

const { writer, nobody } = useLoginRoles(db, { writer: 'pgq_writer', nobody: null });
const canExecute = (role: string, fn: string) => mayExecute(db, role, fn);

describe('pgq_ext grants', () => {
  it('pgq_writer may call every function; PUBLIC only the version functions', async () => {
    const { rows } = await db.query(
      `select p.oid::regprocedure::text as fn from pg_proc p
        where p.pronamespace = 'pgq_ext'::regnamespace`,
    );
    expect(rows.map((row) => row.fn.replaceAll(' ', '')).sort()).toEqual(
      [...writerFunctions, ...publicFunctions].sort(),
    );
    for (const fn of writerFunctions) {
      expect([fn, await canExecute(writer, fn)]).toEqual([fn, true]);
      expect([fn, await canExecute(nobody, fn)]).toEqual([fn, false]);
    }
    for (const fn of publicFunctions) expect(await canExecute(nobody, fn)).toBe(true);
  });

  it('the full forms run as the owner with a pinned search_path', async () => {
    const { rows } = await db.query(
      `select p.oid::regprocedure::text as fn, p.prosecdef as definer, p.proconfig as config
         from pg_proc p where p.pronamespace = 'pgq_ext'::regnamespace`,
    );
    const definerRows = rows
      .filter((row) => row.definer)
      .map((row) => [row.fn.replaceAll(' ', ''), row.config]);
    expect(definerRows.map(([fn]) => fn).sort()).toEqual([...definers].sort());
    for (const [, config] of definerRows)
      expect(config).toEqual(['search_path=pg_catalog, pg_temp']);
  });

  it('a member of pgq_writer records batches without rights on the tables', async () => {
    const client = await db.connect({ user: writer });
    expect((await client.query("select pgq_ext.set_batch_done('w', 1) as r")).rows[0]?.r).toBe(
      true,
    );
    expect((await client.query("select pgq_ext.is_batch_done('w', 1) as r")).rows[0]?.r).toBe(true);
    await expect(client.query('select * from pgq_ext.completed_batch')).rejects.toMatchObject({
      code: '42501',
    });
  });

  it('anyone else is refused', async () => {
    const client = await db.connect({ user: nobody });
    await expect(client.query("select pgq_ext.set_batch_done('w', 2)")).rejects.toMatchObject({
      code: '42501',
      message: 'permission denied for function set_batch_done',
    });
    expect((await client.query('select pgq_ext.version() as v')).rows[0]?.v).toBe('3.3');
  });
});

/**
 * Sequences in londiste (§6.7): add and remove on the root and on replicas, the root's
 * published positions (root_check_seqs, events londiste.update-seq / remove-seq), replicas
 * moving their sequences forward and never back, and bad input: missing, quoted, dotted,
 * mixed-case and unicode names, another schema, a dropped sequence, NULLs, unknown queues.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createNode, failure, one, queueEvents, ret } from './node-setup.js';

const db = useTestDatabase();
let root: pg.Client;
let branch: pg.Client;

const seqRow = (client: pg.Client, queue: string, name: string) =>
  client
    .query(
      'select local, last_value::int8 as v from londiste.seq_info where queue_name = $1 and seq_name = $2',
      [queue, name],
    )
    .then((r) => r.rows[0] ?? null);

beforeAll(async () => {
  root = await db.connect();
  branch = await db.connect({
    database: await db.createDatabase('branch', { template: db.cluster.templateDatabase }),
  });
  await createNode(root, 'rq', 'root');
  await createNode(branch, 'bq', 'branch');
  for (const client of [root, branch]) {
    await client.query(`create schema "Other Sch"`);
    await client.query(`create sequence public.s1`);
    await client.query(`create sequence "Other Sch"."Mixed.Seq"`);
    await client.query(`create sequence public."Ünï"`);
    await client.query('create table public.not_a_seq (id int)');
  }
});

describe('sequences on the root', () => {
  it('local_add_seq adds, publishes last_value + 3 x 10000 at once, and says so once', async () => {
    await root.query(`select setval('public.s1', 41)`);
    expect(await ret(root, `select * from londiste.local_add_seq('rq', 's1')`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence added: public.s1',
    });
    expect(await ret(root, `select * from londiste.local_add_seq('rq', 'public.s1')`)).toEqual({
      ret_code: 201,
      ret_note: 'Sequence already added: public.s1',
    });
    expect(await seqRow(root, 'rq', 'public.s1')).toEqual({ local: true, v: '30041' });
    expect(await queueEvents(root, 'rq')).toEqual([
      { ev_type: 'londiste.update-seq', ev_data: '30041', ev_extra1: 'public.s1', ev_extra2: null },
    ]);
    const { rows } = await root.query(`select * from londiste.get_seq_list('rq')`);
    expect(rows).toEqual([{ seq_name: 'public.s1', last_value: '30041', local: true }]);
  });

  it('root_check_seqs publishes only once the sequence comes within the buffer', async () => {
    const before = (await queueEvents(root, 'rq')).length;
    await root.query(`select setval('public.s1', 20040)`); // 20040 + 10000 < 30041
    expect(await ret(root, `select * from londiste.root_check_seqs('rq')`)).toEqual({
      ret_code: 100,
      ret_note: 'Sequences updated',
    });
    expect((await queueEvents(root, 'rq')).length).toBe(before);
    await root.query(`select setval('public.s1', 20041)`); // reaches it
    await ret(root, `select * from londiste.root_check_seqs('rq')`);
    expect((await queueEvents(root, 'rq')).at(-1)).toMatchObject({
      ev_data: '50041',
      ev_extra1: 'public.s1',
    });
    expect(await seqRow(root, 'rq', 'public.s1')).toEqual({ local: true, v: '50041' });
    // The 2-argument form with its own buffer.
    await ret(root, `select * from londiste.root_check_seqs('rq', 40000)`);
    expect(await seqRow(root, 'rq', 'public.s1')).toEqual({ local: true, v: '140041' });
  });

  it('names: another schema, a dot and upper case inside quotes-free stored names, unicode', async () => {
    expect(
      await ret(root, `select * from londiste.local_add_seq('rq', 'Other Sch.Mixed.Seq')`),
    ).toEqual({ ret_code: 200, ret_note: 'Sequence added: Other Sch.Mixed.Seq' });
    expect(await ret(root, `select * from londiste.local_add_seq('rq', 'Ünï')`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence added: public.Ünï',
    });
    // The stored form is never SQL-quoted: a quoted name is a different (missing) one.
    expect(
      await ret(root, `select * from londiste.local_add_seq('rq', '"Other Sch"."Mixed.Seq"')`),
    ).toEqual({ ret_code: 400, ret_note: 'Sequence not found: "Other Sch"."Mixed.Seq"' });
    expect(await ret(root, `select * from londiste.local_add_seq('rq', 'S1')`)).toEqual({
      ret_code: 400,
      ret_note: 'Sequence not found: public.S1',
    });
    const names = (await queueEvents(root, 'rq')).map((e) => e.ev_extra1);
    expect(names).toContain('Other Sch.Mixed.Seq');
    expect(names).toContain('public.Ünï');
  });

  it('refuses what is not a sequence here; unknown queues raise as upstream', async () => {
    expect(await ret(root, `select * from londiste.local_add_seq('rq', 'not_a_seq')`)).toEqual({
      ret_code: 400,
      ret_note: 'Sequence not found: public.not_a_seq',
    });
    expect(await ret(root, `select * from londiste.local_add_seq('rq', 'nosuch')`)).toEqual({
      ret_code: 400,
      ret_note: 'Sequence not found: public.nosuch',
    });
    expect(await ret(root, 'select * from londiste.local_add_seq($1, null)', ['rq'])).toEqual({
      ret_code: 400,
      ret_note: null,
    });
    expect(await failure(root, `select * from londiste.local_add_seq('nosuchq', 's1')`)).toEqual({
      code: 'P0001',
      message: 'queue does not exist: nosuchq',
    });
    expect(await ret(root, `select * from londiste.root_check_seqs('nosuchq')`)).toEqual({
      ret_code: 404,
      ret_note: 'Queue not found: nosuchq',
    });
    expect(await ret(branch, `select * from londiste.root_check_seqs('bq')`)).toEqual({
      ret_code: 402,
      ret_note: 'Not a root node',
    });
    const { rows } = await root.query(`select count(*)::int as n from londiste.seq_info`);
    expect(rows[0].n).toBe(3);
  });

  it('two checks at once (pgqd and the root worker) publish a position once', async () => {
    const other = await db.connect();
    const published = (await seqRow(root, 'rq', 'public.s1'))?.v;
    await root.query(`select setval('public.s1', $1)`, [Number(published) - 5000]);
    const before = (await queueEvents(root, 'rq')).length;
    await root.query('begin');
    await ret(root, `select * from londiste.root_check_seqs('rq')`);
    const pid = (await one(other, 'select pg_backend_pid() as p')).p;
    const second = ret(other, `select * from londiste.root_check_seqs('rq')`);
    for (;;) {
      const waiting = await one(
        root,
        'select wait_event_type from pg_stat_activity where pid = $1',
        [pid],
      );
      if (waiting.wait_event_type === 'Lock') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await root.query('commit');
    expect(await second).toEqual({ ret_code: 100, ret_note: 'Sequences updated' });
    const added = (await queueEvents(root, 'rq')).slice(before);
    expect(added).toEqual([
      {
        ev_type: 'londiste.update-seq',
        ev_data: String(Number(published) - 5000 + 30000),
        ev_extra1: 'public.s1',
        ev_extra2: null,
      },
    ]);
  });

  it('a registered sequence that was dropped stops root_check_seqs with a line naming it', async () => {
    await root.query('create sequence public.doomed');
    await ret(root, `select * from londiste.local_add_seq('rq', 'doomed')`);
    await root.query('drop sequence public.doomed');
    expect(await failure(root, `select * from londiste.root_check_seqs('rq')`)).toEqual({
      code: '42P01',
      message: 'relation "public.doomed" does not exist',
    });
    // Removing it from the set heals the check.
    expect(await ret(root, `select * from londiste.local_remove_seq('rq', 'doomed')`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence removed: public.doomed',
    });
    expect((await ret(root, `select * from londiste.root_check_seqs('rq')`)).ret_code).toBe(100);
  });

  it('removing on the root removes from the set and tells the nodes', async () => {
    expect(await ret(root, `select * from londiste.local_remove_seq('rq', 'Ünï')`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence removed: public.Ünï',
    });
    expect(await ret(root, `select * from londiste.local_remove_seq('rq', 'Ünï')`)).toEqual({
      ret_code: 400,
      ret_note: 'Sequence not found: public.Ünï',
    });
    expect(
      await ret(root, `select * from londiste.global_remove_seq('rq', 'Other Sch.Mixed.Seq')`),
    ).toEqual({ ret_code: 200, ret_note: 'Sequence removed: Other Sch.Mixed.Seq' });
    expect(
      await ret(root, `select * from londiste.global_remove_seq('rq', 'Other Sch.Mixed.Seq')`),
    ).toEqual({ ret_code: 400, ret_note: 'Sequence not found: Other Sch.Mixed.Seq' });
    const removes = (await queueEvents(root, 'rq')).filter(
      (e) => e.ev_type === 'londiste.remove-seq',
    );
    expect(removes.map((e) => e.ev_data)).toEqual([
      'public.doomed',
      'public.Ünï',
      'Other Sch.Mixed.Seq',
    ]);
    expect(await ret(root, `select * from londiste.global_update_seq('rq', 's1', 5)`)).toEqual({
      ret_code: 402,
      ret_note: 'Must not run on root node',
    });
    expect(await failure(root, `select * from londiste.local_remove_seq('nosuchq', 's1')`)).toEqual(
      { code: 'P0001', message: 'queue does not exist: nosuchq' },
    );
  });
});

describe('sequences on a replica', () => {
  it('global_update_seq stores values for the set; local_add_seq needs the set to know it', async () => {
    await branch.query(`select setval('public.s1', 500)`);
    expect(await ret(branch, `select * from londiste.local_add_seq('bq', 's1')`)).toEqual({
      ret_code: 404,
      ret_note: 'Unknown sequence: public.s1',
    });
    expect(await ret(branch, `select * from londiste.global_update_seq('bq', 's1', 100)`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence updated',
    });
    expect(await seqRow(branch, 'bq', 'public.s1')).toEqual({ local: false, v: '100' });
    // Not local yet: the sequence itself is untouched.
    expect((await one(branch, 'select last_value from public.s1')).last_value).toBe('500');
    expect(await ret(branch, `select * from londiste.local_add_seq('bq', 's1')`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence added: public.s1',
    });
    expect(await ret(branch, `select * from londiste.local_add_seq('bq', 's1')`)).toEqual({
      ret_code: 201,
      ret_note: 'Sequence already added: public.s1',
    });
    // 100 is behind 500: never moved backwards.
    expect((await one(branch, 'select last_value from public.s1')).last_value).toBe('500');
  });

  it('a local sequence follows published values forward only', async () => {
    await ret(branch, `select * from londiste.global_update_seq('bq', 'public.s1', 1000)`);
    expect((await one(branch, 'select last_value from public.s1')).last_value).toBe('1000');
    await ret(branch, `select * from londiste.global_update_seq('bq', 'public.s1', 900)`);
    expect((await one(branch, 'select last_value from public.s1')).last_value).toBe('1000');
    expect(await seqRow(branch, 'bq', 'public.s1')).toEqual({ local: true, v: '900' });
  });

  it('adding a local sequence moves it to the published value; mixed case in another schema', async () => {
    await ret(branch, `select * from londiste.global_update_seq('bq', 'Other Sch.Mixed.Seq', 77)`);
    expect(
      await ret(branch, `select * from londiste.local_add_seq('bq', 'Other Sch.Mixed.Seq')`),
    ).toEqual({ ret_code: 200, ret_note: 'Sequence added: Other Sch.Mixed.Seq' });
    const seq = await one(branch, `select last_value, is_called from "Other Sch"."Mixed.Seq"`);
    expect(seq).toEqual({ last_value: '77', is_called: true });
  });

  it('a set sequence missing here cannot be added; NULLs and unknown sets', async () => {
    await ret(branch, `select * from londiste.global_update_seq('bq', 'public.gone', 7)`);
    expect(await ret(branch, `select * from londiste.local_add_seq('bq', 'gone')`)).toEqual({
      ret_code: 400,
      ret_note: 'Sequence not found: public.gone',
    });
    expect(await ret(branch, `select * from londiste.global_update_seq('nope', 's1', 7)`)).toEqual({
      ret_code: 404,
      ret_note: 'Set not found: nope',
    });
    expect(
      await failure(branch, `select * from londiste.global_update_seq('bq', 's1', null)`),
    ).toMatchObject({ code: '23502' });
    expect(await seqRow(branch, 'bq', 'public.s1')).toEqual({ local: true, v: '900' });
  });

  it('local_remove_seq only stops replicating; global_remove_seq forgets, without events', async () => {
    expect(await ret(branch, `select * from londiste.local_remove_seq('bq', 's1')`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence removed: public.s1',
    });
    expect(await ret(branch, `select * from londiste.local_remove_seq('bq', 's1')`)).toEqual({
      ret_code: 404,
      ret_note: 'Sequence not found: public.s1',
    });
    expect(await seqRow(branch, 'bq', 'public.s1')).toEqual({ local: false, v: '900' });
    expect(await ret(branch, `select * from londiste.global_remove_seq('bq', 's1')`)).toEqual({
      ret_code: 200,
      ret_note: 'Sequence removed: public.s1',
    });
    expect(await seqRow(branch, 'bq', 'public.s1')).toBeNull();
    const { rows } = await branch.query(`select * from londiste.get_seq_list('bq')`);
    expect(rows.map((r) => r.seq_name)).toEqual(['Other Sch.Mixed.Seq', 'public.gone']);
    const { rows: events } = await branch.query(
      'select count(*)::int as n from pgq.event_template',
    );
    expect(events[0].n).toBe(0);
  });
});

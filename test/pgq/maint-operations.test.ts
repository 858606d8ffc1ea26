import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, type Queryable } from './consumer-helpers.js';
import { usePrivateDatabase } from './private-cluster.js';

const db = useTestDatabase();
// maint_tables_to_vacuum lists tables only when autovacuum is off: a server setting.
const noAutovacuum = usePrivateDatabase({ autovacuum: 'off' });

type Op = [string, string | null];

async function operations(target: Queryable): Promise<Op[]> {
  const { rows } = await target.query<{ func_name: string; func_arg: string | null }>(
    'select func_name, func_arg from pgq.maint_operations()',
  );
  return rows.map((row) => [row.func_name, row.func_arg]);
}

/** Run the plan as pgqd does: each op in its own transaction, again while it returns 1. */
async function runPlan(target: Queryable, ops: Op[]): Promise<void> {
  for (const [func, arg] of ops) {
    if (func === 'vacuum') {
      await target.query(`vacuum ${arg}`);
      continue;
    }
    for (let round = 0; round < 100; round++) {
      const sql = arg === null ? `select * from ${func}()` : `select * from ${func}($1)`;
      const { rows } = await target.query(sql, arg === null ? [] : [arg]);
      const first = rows[0] ? Object.values(rows[0])[0] : null;
      if (first !== 1) break;
    }
  }
}

describe('pgq.maint_operations', () => {
  // The template's londiste brings periodic_maintenance; these cases start without it (the
  // last one installs stand-ins whose calls are recorded).
  beforeAll(async () => {
    await db.query('drop schema londiste cascade');
  });

  it('lists nothing for queues that need no maintenance', async () => {
    await makeQueue(db, 'mo_idle');
    expect(await operations(db)).toEqual([]);
  });

  it('lists step 1 for due queues, step 2, and extra_maint functions', async () => {
    await makeQueue(db, 'mo_due_b');
    await makeQueue(db, 'mo_due_a');
    await makeQueue(db, 'mo extra');
    await db.query(
      `update pgq.queue set queue_switch_time = now() - interval '3 hours'
        where queue_name in ('mo_due_a', 'mo_due_b')`,
    );
    await db.query(
      `update pgq.queue set queue_extra_maint = array['public.extra_one', 'public.extra_two']
        where queue_name = 'mo extra'`,
    );
    expect(await operations(db)).toEqual([
      ['pgq.maint_rotate_tables_step1', 'mo_due_a'],
      ['pgq.maint_rotate_tables_step1', 'mo_due_b'],
      ['pgq.maint_rotate_tables_step2', null],
      ['public.extra_one', 'mo extra'],
      ['public.extra_two', 'mo extra'],
    ]);

    // The extra functions follow the contract: called with the queue name, again while 1.
    await db.query('create table extra_calls (fn text, arg text)');
    await db.query(`create function public.extra_one(q text) returns integer language sql as $$
      insert into extra_calls values ('one', q);
      select case when count(*) < 3 then 1 else 0 end from extra_calls where fn = 'one' $$`);
    await db.query(`create function public.extra_two(q text) returns integer language sql as $$
      insert into extra_calls values ('two', q); select 0 $$`);
    await runPlan(db, await operations(db));
    const calls = await db.query('select fn, arg from extra_calls order by fn');
    expect(calls.rows).toEqual([
      { fn: 'one', arg: 'mo extra' },
      { fn: 'one', arg: 'mo extra' },
      { fn: 'one', arg: 'mo extra' },
      { fn: 'two', arg: 'mo extra' },
    ]);
    const rotated = await db.query(
      `select queue_name, queue_cur_table, queue_switch_step2 is not null as done
         from pgq.queue where queue_name in ('mo_due_a', 'mo_due_b') order by 1`,
    );
    expect(rotated.rows).toEqual([
      { queue_name: 'mo_due_a', queue_cur_table: 1, done: true },
      { queue_name: 'mo_due_b', queue_cur_table: 1, done: true },
    ]);
    await db.query("update pgq.queue set queue_extra_maint = null where queue_name = 'mo extra'");
    expect(await operations(db)).toEqual([]);
  });

  it('lists step 2 alone while a rotation waits for it', async () => {
    await db.query("update pgq.queue set queue_switch_step2 = null where queue_name = 'mo_idle'");
    expect(await operations(db)).toEqual([['pgq.maint_rotate_tables_step2', null]]);
    await runPlan(db, await operations(db));
    expect(await operations(db)).toEqual([]);
  });

  it('finds pgq_node and londiste maintenance functions in the catalog', async () => {
    await makeQueue(db, 'mo_root');
    await makeQueue(db, 'mo_branch');
    await makeQueue(db, 'mo_root_noseq');
    // The template's real pgq_node makes way for a stand-in whose calls are recorded.
    await db.query('drop schema pgq_node cascade');
    // Only the schema and table: no function of that name yet, nothing listed.
    await db.query('create schema pgq_node');
    await db.query('create table pgq_node.node_info (queue_name text primary key, node_type text)');
    await db.query(
      `insert into pgq_node.node_info values ('mo_root', 'root'), ('mo_branch', 'branch'),
         ('mo_root_noseq', 'root')`,
    );
    expect(await operations(db)).toEqual([]);
    await db.query('create table pgq_node.calls (fn text, arg text)');
    await db.query(`create function pgq_node.maint_watermark(i_queue_name text) returns int4
      language sql as $$ insert into pgq_node.calls values ('maint_watermark', i_queue_name);
      select 0 $$`);
    expect(await operations(db)).toEqual([
      ['pgq_node.maint_watermark', 'mo_root'],
      ['pgq_node.maint_watermark', 'mo_root_noseq'],
    ]);

    await db.query('create schema londiste');
    await db.query(
      'create table londiste.seq_info (queue_name text, seq_name text, local boolean)',
    );
    await db.query(
      `insert into londiste.seq_info values ('mo_root', 's1', true), ('mo_root', 's2', true),
         ('mo_branch', 's1', true), ('mo_root_noseq', 's1', false)`,
    );
    await db.query(`create function londiste.root_check_seqs(i_queue_name text,
        out ret_code int4, out ret_note text)
      language sql as $$ insert into pgq_node.calls values ('root_check_seqs', i_queue_name);
      select 100, 'Sequences updated' $$`);
    await db.query(`create function londiste.periodic_maintenance() returns integer
      language sql as $$ insert into pgq_node.calls values ('periodic_maintenance', null);
      select 0 $$`);
    const ops = await operations(db);
    expect(ops).toEqual([
      ['pgq_node.maint_watermark', 'mo_root'],
      ['pgq_node.maint_watermark', 'mo_root_noseq'],
      ['londiste.root_check_seqs', 'mo_root'],
      ['londiste.periodic_maintenance', null],
    ]);
    await runPlan(db, ops);
    const calls = await db.query('select fn, arg from pgq_node.calls');
    expect(calls.rows).toEqual([
      { fn: 'maint_watermark', arg: 'mo_root' },
      { fn: 'maint_watermark', arg: 'mo_root_noseq' },
      { fn: 'root_check_seqs', arg: 'mo_root' },
      { fn: 'periodic_maintenance', arg: null },
    ]);
  });
});

describe('pgq.maint_tables_to_vacuum', () => {
  it('is empty while autovacuum is on', async () => {
    const { rows } = await db.query('select * from pgq.maint_tables_to_vacuum()');
    expect(rows).toEqual([]);
  });

  it('lists the busy tables that exist when autovacuum is off', async () => {
    const target = noAutovacuum;
    const list = async () =>
      (await target.query('select t from pgq.maint_tables_to_vacuum() t')).rows.map((row) => row.t);
    const pgqTables = [
      'pgq.subscription',
      'pgq.consumer',
      'pgq.queue',
      'pgq.tick',
      'pgq.retry_queue',
    ];
    expect(await list()).toEqual(pgqTables);
    await target.query('create schema pgq_ext');
    await target.query('create table pgq_ext.completed_tick (x int)');
    await target.query('create table pgq_ext.completed_batch (x int)');
    await target.query('create schema pgq_node');
    await target.query('create table pgq_node.local_state (x int)');
    await target.query('create table pgq_node.node_info (x int)');
    await target.query('create schema londiste');
    await target.query('create table londiste.completed (x int)');
    await target.query('create schema txid');
    await target.query('create table txid.epoch (x int)');
    const expected = [
      ...pgqTables,
      'pgq_ext.completed_batch',
      'pgq_ext.completed_tick',
      'pgq_node.local_state',
      'londiste.completed',
      'txid.epoch',
    ];
    expect(await list()).toEqual(expected);
    const ops = await operations(target);
    expect(ops).toEqual(expected.map((table) => ['vacuum', table]));
    await runPlan(target, ops);
  });
});

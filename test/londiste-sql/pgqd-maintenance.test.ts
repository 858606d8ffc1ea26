/**
 * pgqd runs londiste's maintenance in each database (pgq.maint_operations names it): on a
 * root with a local sequence used past its buffer, a londiste.update-seq event appears
 * without anyone calling root_check_seqs, and applied EXECUTE scripts older than 3 months go.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { eventually, type PgqdProcess, usePgqd } from '../pgqd/helpers.js';
import { createNode, one, queueEvents, ret } from './node-setup.js';

const db = useTestDatabase();
const pgqd = usePgqd();
let root: pg.Client;
let daemon: PgqdProcess;

beforeAll(async () => {
  root = await db.connect();
  await createNode(root, 'seqq', 'root');
  await root.query(`create sequence public."Order Ids"`);
  await ret(root, `select * from londiste.local_add_seq('seqq', 'Order Ids')`);
  await root.query(
    `insert into londiste.applied_execute (queue_name, execute_file, execute_time, execute_sql)
     values ('seqq', 'old.sql', now() - interval '4 months', 'select 1'),
            ('seqq', 'new.sql', now(), 'select 1')`,
  );
  const config = pgqd.writeConfig('londiste', {
    base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
    database_list: db.name,
  });
  daemon = pgqd.start([config]);
  await daemon.waitFor(/pgq 3\.5 found/);
});

afterAll(async () => {
  daemon.signal('SIGINT');
  expect(await daemon.exited).toBe(0);
});

describe('pgqd and londiste', () => {
  it('publishes a sequence position once the root uses the sequence past the buffer', async () => {
    const published = (await one(root, `select last_value::int8 as v from londiste.seq_info`)).v;
    expect(published).toBe('30001');
    // Within 10000 of the published value: the next check must publish ahead again.
    await root.query(`select setval('public."Order Ids"', 25000)`);
    const row = await eventually(
      () => one(root, `select last_value::int8 as v from londiste.seq_info`),
      (r) => r.v !== '30001',
      30_000,
    );
    expect(row.v).toBe('55000');
    const updates = (await queueEvents(root, 'seqq')).filter(
      (e) => e.ev_type === 'londiste.update-seq',
    );
    expect(updates.map((e) => [e.ev_data, e.ev_extra1])).toEqual([
      ['30001', 'public.Order Ids'],
      ['55000', 'public.Order Ids'],
    ]);
  });

  it('forgets applied scripts older than 3 months', async () => {
    const left = await eventually(
      async () => (await root.query('select execute_file from londiste.applied_execute')).rows,
      (rows) => rows.length === 1,
      30_000,
    );
    expect(left).toEqual([{ execute_file: 'new.sql' }]);
  });
});

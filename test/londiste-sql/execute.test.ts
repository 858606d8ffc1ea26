/**
 * EXECUTE through the cascade (§6.6, SQL side): execute_start records a script once per file
 * name, execute_finish sends it on from the root as event EXECUTE; the replica's replay of it;
 * and the small node services: root_notify_change, periodic_maintenance (3 months of
 * applied scripts kept) and set_session_replication_role (SECURITY DEFINER, three values).
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createNode, failure, one, queueEvents, ret } from './node-setup.js';

const db = useTestDatabase();
let root: pg.Client;
let branch: pg.Client;

beforeAll(async () => {
  root = await db.connect();
  branch = await db.connect({
    database: await db.createDatabase('branch', { template: db.cluster.templateDatabase }),
  });
  await createNode(root, 'rq', 'root');
  await createNode(branch, 'bq', 'branch');
});

describe('execute_start and execute_finish', () => {
  it('on the root: recorded once, sent on as EXECUTE with file name and attributes', async () => {
    const sql = 'create table public."Tbl ü" (id int primary key);';
    await root.query('begin');
    expect(
      await ret(root, 'select * from londiste.execute_start($1, $2, $3, true, $4)', [
        'rq',
        'ddl "1".sql',
        sql,
        'Local-Table=public.x',
      ]),
    ).toEqual({ ret_code: 200, ret_note: 'Executing: ddl "1".sql' });
    await root.query(sql);
    expect(
      await ret(root, 'select * from londiste.execute_finish($1, $2)', ['rq', 'ddl "1".sql']),
    ).toEqual({ ret_code: 200, ret_note: 'Execute finished: ddl "1".sql' });
    await root.query('commit');
    expect(await queueEvents(root, 'rq')).toEqual([
      {
        ev_type: 'EXECUTE',
        ev_data: sql,
        ev_extra1: 'ddl "1".sql',
        ev_extra2: 'Local-Table=public.x',
      },
    ]);
    const row = await one(
      root,
      'select queue_name, execute_sql, execute_attrs, execute_time <= now() as past from londiste.applied_execute where execute_file = $1',
      ['ddl "1".sql'],
    );
    expect(row).toEqual({
      queue_name: 'rq',
      execute_sql: sql,
      execute_attrs: 'Local-Table=public.x',
      past: true,
    });
  });

  it('a file already applied is skipped, whoever asks', async () => {
    for (const expectRoot of [true, false]) {
      expect(
        await ret(root, 'select * from londiste.execute_start($1, $2, $3, $4)', [
          'rq',
          'ddl "1".sql',
          'other text',
          expectRoot,
        ]),
      ).toEqual({ ret_code: 201, ret_note: 'EXECUTE: "ddl "1".sql" already applied, skipping' });
    }
    const row = await one(
      root,
      'select execute_sql from londiste.applied_execute where execute_file = $1',
      ['ddl "1".sql'],
    );
    expect(row.execute_sql).toContain('Tbl ü');
  });

  it('execute_finish without execute_start; the 4-argument form stores no attributes', async () => {
    expect(await ret(root, `select * from londiste.execute_finish('rq', 'never.sql')`)).toEqual({
      ret_code: 404,
      ret_note: 'execute_file called without execute_start',
    });
    expect(
      await ret(root, `select * from londiste.execute_start('rq', 'plain.sql', 'select 1', true)`),
    ).toEqual({ ret_code: 200, ret_note: 'Executing: plain.sql' });
    expect(
      (
        await one(
          root,
          `select execute_attrs from londiste.applied_execute where execute_file = 'plain.sql'`,
        )
      ).execute_attrs,
    ).toBeNull();
  });

  it('on a replica: the admin command is refused, the replay runs and sends nothing', async () => {
    expect(
      await ret(
        branch,
        `select * from londiste.execute_start('bq', 'r.sql', 'select 1', true, null)`,
      ),
    ).toEqual({ ret_code: 401, ret_note: 'Node is not root node: bq' });
    expect((await one(branch, 'select count(*)::int as n from londiste.applied_execute')).n).toBe(
      0,
    );
    expect(
      await ret(
        branch,
        `select * from londiste.execute_start('bq', 'r.sql', 'select 1', false, 'a=b')`,
      ),
    ).toEqual({ ret_code: 200, ret_note: 'Executing: r.sql' });
    expect(await ret(branch, `select * from londiste.execute_finish('bq', 'r.sql')`)).toEqual({
      ret_code: 200,
      ret_note: 'Execute finished: r.sql',
    });
    expect((await one(branch, 'select count(*)::int as n from pgq.event_template')).n).toBe(0);
  });

  it('bad input: unknown queue raises as upstream, NULL file or SQL violate the table', async () => {
    expect(
      await failure(
        root,
        `select * from londiste.execute_start('nosuchq', 'x.sql', 'select 1', true)`,
      ),
    ).toEqual({ code: 'P0001', message: 'queue does not exist: nosuchq' });
    expect(
      await failure(root, `select * from londiste.execute_finish('nosuchq', 'plain.sql')`),
    ).toEqual({
      code: 'P0001',
      message: 'queue does not exist: nosuchq',
    });
    expect(
      await failure(root, `select * from londiste.execute_start('rq', null, 'select 1', true)`),
    ).toMatchObject({ code: '23502' });
    expect(
      await failure(root, `select * from londiste.execute_start('rq', 'n.sql', null, true)`),
    ).toMatchObject({
      code: '23502',
    });
    expect(await ret(root, `select * from londiste.execute_finish('rq', null)`)).toEqual({
      ret_code: null,
      ret_note: null,
    });
  });
});

describe('root_notify_change', () => {
  it('sends an event from the root only', async () => {
    expect(
      (await one(root, `select londiste.root_notify_change('rq', 'my.ev', 'päyload') as r`)).r,
    ).toBe(1);
    expect((await queueEvents(root, 'rq')).at(-1)).toEqual({
      ev_type: 'my.ev',
      ev_data: 'päyload',
      ev_extra1: null,
      ev_extra2: null,
    });
    expect(await failure(branch, `select londiste.root_notify_change('bq', 'x', 'y')`)).toEqual({
      code: 'P0001',
      message: 'only root node can send events',
    });
    expect(await failure(root, `select londiste.root_notify_change('nosuchq', 'x', 'y')`)).toEqual({
      code: 'P0001',
      message: 'queue does not exist: nosuchq',
    });
  });
});

describe('periodic_maintenance', () => {
  it('forgets scripts applied more than 3 months ago, keeps the rest, returns 0', async () => {
    await root.query(`update londiste.applied_execute set execute_time = now() - interval '3 months 1 minute'
                       where execute_file = 'plain.sql'`);
    await root.query(`update londiste.applied_execute set execute_time = now() - interval '3 months' + interval '1 minute'
                       where execute_file = 'ddl "1".sql'`);
    expect((await one(root, 'select londiste.periodic_maintenance() as r')).r).toBe(0);
    const { rows } = await root.query(
      'select execute_file from londiste.applied_execute order by 1',
    );
    expect(rows.map((r) => r.execute_file)).toEqual(['ddl "1".sql']);
  });
});

describe('set_session_replication_role', () => {
  it('sets the three values for the session or the transaction', async () => {
    const role = async () =>
      (await one(root, 'show session_replication_role')).session_replication_role;
    await root.query(`select londiste.set_session_replication_role('replica', false)`);
    expect(await role()).toBe('replica');
    await root.query('begin');
    await root.query(`select londiste.set_session_replication_role('local', true)`);
    expect(await role()).toBe('local');
    await root.query('commit');
    expect(await role()).toBe('replica');
    await root.query(`select londiste.set_session_replication_role('origin', false)`);
    expect(await role()).toBe('origin');
    for (const bad of ['LOCAL', 'default', ' replica', null]) {
      expect(
        await failure(root, 'select londiste.set_session_replication_role($1, false)', [bad]),
      ).toEqual({ code: 'P0001', message: 'bad value for session_replication_role' });
    }
    expect(await role()).toBe('origin');
  });

  it('lets londiste_writer, not a superuser, replay as replica; others may not call it', async () => {
    const writer = `lw_${db.name}`.slice(0, 60);
    const other = `lo_${db.name}`.slice(0, 60);
    await root.query(`create role "${writer}" login in role londiste_writer`);
    await root.query(`create role "${other}" login`);
    try {
      const client = await db.connect({ user: writer });
      await client.query(`select londiste.set_session_replication_role('replica', false)`);
      expect((await one(client, 'show session_replication_role')).session_replication_role).toBe(
        'replica',
      );
      expect(await failure(client, `set session_replication_role = 'origin'`)).toMatchObject({
        code: '42501',
      });
      await client.end();
      const stranger = await db.connect({ user: other });
      expect(
        await failure(stranger, `select londiste.set_session_replication_role('replica', false)`),
      ).toEqual({
        code: '42501',
        message: 'permission denied for function set_session_replication_role',
      });
      await stranger.end();
    } finally {
      await root.query(`drop role "${writer}"`);
      await root.query(`drop role "${other}"`);
    }
  });
});

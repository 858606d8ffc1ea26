/**
 * pgq.upgrade_schema() and the privileges of queue objects. Roles are cluster-wide, so this
 * file runs on a cluster of its own, where the pgq roles do not exist at first.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import type { Cluster } from '../../src/pg/index.js';
import { useExtraClusters } from '../harness/clusters.js';

const startCluster = useExtraClusters();
let cluster: Cluster;
let admin: pg.Client;
let installNotices: string[] = [];

const roleNames = ['pgq_reader', 'pgq_writer', 'pgq_admin'];
const missingRolesNotice =
  'pgq roles missing; an administrator must run: create role pgq_reader; ' +
  'create role pgq_writer; create role pgq_admin; grant pgq_reader to pgq_admin; ' +
  'grant pgq_writer to pgq_admin;';

beforeAll(async () => {
  cluster = await startCluster();
  const setup = new pg.Client(cluster.connectionConfig());
  await setup.connect();
  try {
    // An installer that owns its database but may not create roles (a managed server).
    await setup.query('create role plain_installer login');
    await setup.query('create database pgq_upgrade owner plain_installer');
  } finally {
    await setup.end();
  }
  const installer = new pg.Client({
    ...cluster.connectionConfig('pgq_upgrade'),
    user: 'plain_installer',
  });
  await installer.connect();
  try {
    const [result] = await installSchemas(installer, ['pgq']);
    installNotices = result?.notices ?? [];
  } finally {
    await installer.end();
  }
  admin = new pg.Client(cluster.connectionConfig('pgq_upgrade'));
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
});

async function upgrade(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>('select pgq.upgrade_schema() as n');
  return rows[0]?.n ?? -1;
}

async function existingRoles(): Promise<string[]> {
  const { rows } = await admin.query<{ rolname: string }>(
    'select rolname from pg_roles where rolname = any($1) order by rolname',
    [roleNames],
  );
  return rows.map((row) => row.rolname);
}

async function adminMemberships(): Promise<string[]> {
  const { rows } = await admin.query<{ r: string }>(
    `select b.rolname as r from pg_auth_members m
       join pg_roles a on a.oid = m.member join pg_roles b on b.oid = m.roleid
      where a.rolname = 'pgq_admin' order by 1`,
  );
  return rows.map((row) => row.r);
}

describe('pgq.upgrade_schema', () => {
  it('without CREATEROLE: the install goes on and names the statements an administrator must run', async () => {
    expect(installNotices).toEqual([missingRolesNotice]);
    expect(await existingRoles()).toEqual([]);
    // Running it again by hand says the same and changes nothing.
    const notices: string[] = [];
    const listen = (notice: { message?: string }) => notices.push(notice.message ?? '');
    admin.on('notice', listen);
    await admin.query('set role plain_installer');
    try {
      expect(await upgrade()).toBe(0);
    } finally {
      await admin.query('reset role');
      admin.off('notice', listen);
    }
    expect(notices).toEqual([missingRolesNotice]);
    expect(await existingRoles()).toEqual([]);
  });

  it('queues can be created while the roles are missing', async () => {
    const { rows } = await admin.query("select pgq.create_queue('before_roles') as r");
    expect(rows[0]?.r).toBe(1);
  });

  it('with CREATEROLE: creates the three roles and pgq_admin’s memberships, once', async () => {
    await admin.query('create role role_maker createrole');
    await admin.query('grant usage on schema pgq to role_maker');
    await admin.query('grant execute on function pgq.upgrade_schema() to role_maker');
    await admin.query('set role role_maker');
    try {
      expect(await upgrade()).toBe(5);
      expect(await upgrade()).toBe(0);
    } finally {
      await admin.query('reset role');
    }
    expect(await existingRoles()).toEqual(['pgq_admin', 'pgq_reader', 'pgq_writer']);
    expect(await adminMemberships()).toEqual(['pgq_reader', 'pgq_writer']);
    const { rows } = await admin.query(
      'select rolcanlogin from pg_roles where rolname = any($1) and rolcanlogin',
      [roleNames],
    );
    expect(rows).toEqual([]);
  });

  it('restores a missing membership', async () => {
    // Revoked by its grantor (PostgreSQL 16+ keeps one membership per grantor).
    await admin.query('set role role_maker');
    await admin.query('revoke pgq_writer from pgq_admin');
    await admin.query('reset role');
    expect(await upgrade()).toBe(1);
    expect(await adminMemberships()).toEqual(['pgq_reader', 'pgq_writer']);
  });

  it('drops NOT NULL on sub_last_tick and adds queue_extra_maint', async () => {
    await admin.query('alter table pgq.subscription alter column sub_last_tick set not null');
    expect(await upgrade()).toBe(1);
    await admin.query('alter table pgq.queue drop column queue_extra_maint');
    expect(await upgrade()).toBe(1);
    const { rows } = await admin.query(
      `select attname, format_type(atttypid, atttypmod) as type, attnotnull from pg_attribute
        where (attrelid, attname) in (('pgq.subscription'::regclass, 'sub_last_tick'),
                                      ('pgq.queue'::regclass, 'queue_extra_maint'))
          and not attisdropped order by 1`,
    );
    expect(rows).toEqual([
      { attname: 'queue_extra_maint', type: 'text[]', attnotnull: false },
      { attname: 'sub_last_tick', type: 'bigint', attnotnull: false },
    ]);
    expect(await upgrade()).toBe(0);
  });
});

describe('privileges of queue objects', () => {
  it('copies event_template grants (with grant options) to the queue tables', async () => {
    await admin.query('create role grant_keeper');
    await admin.query('grant select on pgq.event_template to pgq_reader');
    await admin.query('grant select, insert, truncate on pgq.event_template to pgq_admin');
    await admin.query('grant select on pgq.event_template to grant_keeper with grant option');
    await admin.query("select pgq.create_queue('with_roles')");
    const { rows: q } = await admin.query<{ id: number }>(
      "select queue_id as id from pgq.queue where queue_name = 'with_roles'",
    );
    const id = q[0]?.id;
    const acl = async (table: string) =>
      (
        await admin.query<{ grantee: string; privilege_type: string; is_grantable: boolean }>(
          `select coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') as grantee,
                  a.privilege_type, a.is_grantable
             from pg_class c, aclexplode(c.relacl) a
            where c.oid = $1::regclass and a.grantee <> c.relowner
            order by 1, 2`,
          [table],
        )
      ).rows;
    const expected = [
      { grantee: 'grant_keeper', privilege_type: 'SELECT', is_grantable: true },
      { grantee: 'pgq_admin', privilege_type: 'INSERT', is_grantable: false },
      { grantee: 'pgq_admin', privilege_type: 'SELECT', is_grantable: false },
      { grantee: 'pgq_admin', privilege_type: 'TRUNCATE', is_grantable: false },
      { grantee: 'pgq_reader', privilege_type: 'SELECT', is_grantable: false },
    ];
    for (const table of [
      `pgq.event_${id}`,
      `pgq.event_${id}_0`,
      `pgq.event_${id}_1`,
      `pgq.event_${id}_2`,
    ]) {
      expect(await acl(table), table).toEqual(expected);
    }
    // Sequences: SELECT for everyone, USAGE of the event sequence for pgq_admin.
    const { rows } = await admin.query(
      `select has_sequence_privilege('pgq_admin', $1, 'usage') as admin_usage,
              has_sequence_privilege('public', $1, 'select') as public_select,
              has_sequence_privilege('public', $1, 'usage') as public_usage,
              has_sequence_privilege('public', $2, 'select') as public_tick_select`,
      [`pgq.event_${id}_id_seq`, `pgq.event_${id}_tick_seq`],
    );
    expect(rows[0]).toEqual({
      admin_usage: true,
      public_select: true,
      public_usage: false,
      public_tick_select: true,
    });
    // PUBLIC gets nothing on event data.
    const pub = await admin.query("select has_table_privilege('public', $1, 'select') as s", [
      `pgq.event_${id}_0`,
    ]);
    expect(pub.rows[0]?.s).toBe(false);
  });

  it('grant_perms brings an older queue up to date', async () => {
    const { rows: q } = await admin.query<{ id: number }>(
      "select queue_id as id from pgq.queue where queue_name = 'before_roles'",
    );
    const id = q[0]?.id;
    const check = async () =>
      (
        await admin.query(
          `select has_table_privilege('pgq_reader', $1, 'select') as reader,
                  has_sequence_privilege('pgq_admin', $2, 'usage') as admin_seq`,
          [`pgq.event_${id}_1`, `pgq.event_${id}_id_seq`],
        )
      ).rows[0];
    expect(await check()).toEqual({ reader: false, admin_seq: false });
    expect((await admin.query("select pgq.grant_perms('before_roles') as r")).rows[0]?.r).toBe(1);
    expect(await check()).toEqual({ reader: true, admin_seq: true });
  });

  it('SECURITY DEFINER functions let a producer insert without table privileges', async () => {
    // docs/install.md: once an administrator has created the roles, re-run the installer so
    // the functions are granted to them.
    const installer = new pg.Client({
      ...cluster.connectionConfig('pgq_upgrade'),
      user: 'plain_installer',
    });
    await installer.connect();
    try {
      const [result] = await installSchemas(installer, ['pgq']);
      expect(result?.notices).toEqual([]);
    } finally {
      await installer.end();
    }
    await admin.query('create role producer in role pgq_writer');
    await admin.query('grant usage on schema pgq to producer');
    await admin.query('set role producer');
    try {
      const { rows } = await admin.query("select pgq.insert_event('with_roles', 't', 'd') as id");
      expect(rows[0]?.id).toBe('1');
      await expect(
        admin.query("select * from pgq.event_template where ev_type = 't'"),
      ).rejects.toMatchObject({ code: '42501' });
    } finally {
      await admin.query('reset role');
    }
  });
});

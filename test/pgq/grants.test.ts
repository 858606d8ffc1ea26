import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { canExecute as mayExecute, useLoginRoles } from '../harness/grants.js';

const db = useTestDatabase();

// §1.6: who may call what. Roles are cluster-wide, so the login roles of this file carry the
// database name; the pgq_* group roles are created by the installer.
const publicFunctions = [
  'pgq.seq_getval(text)',
  'pgq.get_queue_info()',
  'pgq.get_queue_info(text)',
  'pgq.get_consumer_info()',
  'pgq.get_consumer_info(text)',
  'pgq.get_consumer_info(text,text)',
  'pgq.quote_fqname(text)',
  'pgq.version()',
];
const readerFunctions = [
  'pgq.batch_event_sql(bigint)',
  'pgq.batch_event_tables(bigint)',
  'pgq.register_consumer(text,text)',
  'pgq.register_consumer_at(text,text,bigint)',
  'pgq.unregister_consumer(text,text)',
  'pgq.next_batch(text,text)',
  'pgq.next_batch_info(text,text)',
  'pgq.next_batch_custom(text,text,interval,integer,interval)',
  'pgq.get_batch_events(bigint)',
  'pgq.get_batch_info(bigint)',
  'pgq.get_batch_cursor(bigint,text,integer)',
  'pgq.get_batch_cursor(bigint,text,integer,text)',
  'pgq.event_retry(bigint,bigint,integer)',
  'pgq.event_retry(bigint,bigint,timestamptz)',
  'pgq.batch_retry(bigint,integer)',
  'pgq.force_tick(text)',
  'pgq.finish_batch(bigint)',
];
const writerFunctions = [
  'pgq.insert_event(text,text,text)',
  'pgq.insert_event(text,text,text,text,text,text,text)',
  'pgq.insert_events(text,text[],text[],text[],text[],text[],text[])',
  'pgq.current_event_table(text)',
  'pgq.logutriga()',
  'pgq.sqltriga()',
  'pgq.jsontriga()',
];
const adminFunctions = [
  'pgq.ticker()',
  'pgq.ticker(text)',
  'pgq.ticker(text,bigint,timestamptz,bigint)',
  'pgq.maint_retry_events()',
  'pgq.maint_rotate_tables_step1(text)',
  'pgq.maint_rotate_tables_step2()',
  'pgq.maint_tables_to_vacuum()',
  'pgq.maint_operations()',
  'pgq.create_queue(text)',
  'pgq.drop_queue(text)',
  'pgq.drop_queue(text,boolean)',
  'pgq.set_queue_config(text,text,text)',
  'pgq.insert_event_raw(text,bigint,timestamptz,integer,integer,text,text,text,text,text,text)',
  'pgq.event_retry_raw(text,text,timestamptz,bigint,timestamptz,integer,text,text,text,text,text,text)',
  'pgq.seq_setval(text,bigint)',
  'pgq.tune_storage(text)',
  'pgq.grant_perms(text)',
  'pgq.upgrade_schema()',
];

const roles = useLoginRoles(db, {
  reader: 'pgq_reader',
  writer: 'pgq_writer',
  admin: 'pgq_admin',
  nobody: null,
});

beforeAll(async () => {
  await db.query(`select pgq.create_queue('granted')`);
});

const canExecute = (role: string, fn: string) => mayExecute(db, role, fn);

async function asRole<T>(role: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await db.connect({ user: role });
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('pgq roles and grants (§1.6)', () => {
  it('creates the three roles, pgq_admin a member of both others', async () => {
    const { rows } = await db.query(
      `select r.rolname, array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
                               where m.member = r.oid order by 1) as member_of
         from pg_roles r where r.rolname like 'pgq\\_%' order by 1`,
    );
    expect(rows).toEqual([
      { rolname: 'pgq_admin', member_of: ['pgq_reader', 'pgq_writer'] },
      { rolname: 'pgq_reader', member_of: [] },
      { rolname: 'pgq_writer', member_of: [] },
    ]);
  });

  it('gives each role exactly its functions, and PUBLIC only the info functions', async () => {
    const groups = {
      public: publicFunctions,
      reader: readerFunctions,
      writer: writerFunctions,
      admin: adminFunctions,
    };
    // pgq_admin is a member of pgq_reader and pgq_writer, so it may call theirs too.
    const allowed: Record<keyof typeof roles, (keyof typeof groups)[]> = {
      nobody: ['public'],
      reader: ['public', 'reader'],
      writer: ['public', 'writer'],
      admin: ['public', 'reader', 'writer', 'admin'],
    };
    for (const role of Object.keys(allowed) as (keyof typeof roles)[]) {
      for (const [group, functions] of Object.entries(groups) as [
        keyof typeof groups,
        string[],
      ][]) {
        for (const fn of functions) {
          expect(await canExecute(roles[role], fn), `${role} on ${fn}`).toBe(
            allowed[role].includes(group),
          );
        }
      }
    }
  });

  it('leaves no other pgq function callable by PUBLIC except internal helpers', async () => {
    const { rows } = await db.query<{ fn: string }>(
      `select p.oid::regprocedure::text as fn from pg_proc p
        where p.pronamespace = 'pgq'::regnamespace and p.proname not like '\\_%'
          and has_function_privilege($1, p.oid, 'execute')
        order by 1`,
      [roles.nobody],
    );
    expect(
      rows.map((row) => row.fn.replaceAll(' ', '').replace('timestampwithtimezone', 'timestamptz')),
    ).toEqual([...publicFunctions, 'pgq.skytools_version()'].sort());
  });

  it('lets a producer insert but not create queues or register', async () => {
    await asRole(roles.writer, async (client) => {
      await client.query("select pgq.insert_event('granted', 't', 'from writer')");
      await expect(client.query("select pgq.create_queue('nope')")).rejects.toThrow(
        'permission denied for function create_queue',
      );
      await expect(client.query("select pgq.register_consumer('granted', 'c')")).rejects.toThrow(
        'permission denied for function register_consumer',
      );
    });
  });

  it('lets a consumer register and read batches but not insert', async () => {
    await asRole(roles.reader, async (client) => {
      expect(
        (await client.query("select pgq.register_consumer('granted', 'c') as r")).rows[0].r,
      ).toBe(1);
      await client.query("select pgq.force_tick('granted')");
      await expect(client.query("select pgq.insert_event('granted', 't', 'd')")).rejects.toThrow(
        'permission denied for function insert_event',
      );
    });
  });

  it('lets an admin create and drop queues', async () => {
    await asRole(roles.admin, async (client) => {
      expect((await client.query("select pgq.create_queue('by_admin') as r")).rows[0].r).toBe(1);
      expect((await client.query("select pgq.drop_queue('by_admin') as r")).rows[0].r).toBe(1);
    });
  });

  it('keeps event data away from PUBLIC but readable by consumers', async () => {
    const { rows } = await db.query<{ t: string }>(
      "select queue_data_pfx || '_0' as t from pgq.queue where queue_name = 'granted'",
    );
    const table = rows[0]?.t as string;
    await asRole(roles.nobody, async (client) => {
      await expect(client.query(`select * from ${table}`)).rejects.toThrow(
        /permission denied for table/,
      );
      await expect(client.query('select * from pgq.event_template')).rejects.toThrow(
        /permission denied for table/,
      );
      expect(
        (await client.query("select count(*)::int as n from pgq.get_queue_info('granted')")).rows[0]
          .n,
      ).toBe(1);
    });
    await asRole(roles.reader, async (client) => {
      await client.query(`select count(*) from ${table}`);
    });
  });
});

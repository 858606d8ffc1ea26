/**
 * Installing schema londiste: on top of pgq and pgq_node, in one call with them, again over
 * itself (a no-op that keeps the node's rows), and refused with one clear line where pgq_node
 * is missing.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import { sqlBundle } from '../../src/db/sql-bundle.js';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const owner = `${db.name}_owner`;
let ownedDatabase: string | undefined;

afterAll(async () => {
  if (ownedDatabase)
    await db.query(`drop database if exists ${quoteIdent(ownedDatabase)} with (force)`);
  await db.query(`drop role if exists ${quoteIdent(owner)}`);
});

async function withClient<T>(database: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client(db.config({ database }));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('installing londiste', () => {
  it('installs with pgq and pgq_node in one call, tables and version in place', async () => {
    const database = await db.createDatabase('fresh');
    await withClient(database, async (client) => {
      const results = await installSchemas(client, ['londiste', 'pgq_node', 'pgq']);
      expect(results.map((r) => r.schema)).toEqual(['pgq', 'pgq_node', 'londiste']);
      const { rows } = await client.query(
        `select londiste.version() as v, londiste.skytools_version() as s`,
      );
      expect(rows[0]).toEqual({ v: '3.8', s: results[2]?.current });
      const tables = await client.query(
        "select tablename from pg_tables where schemaname = 'londiste' order by 1",
      );
      expect(tables.rows.map((row) => row.tablename)).toEqual([
        'applied_execute',
        'pending_fkeys',
        'seq_info',
        'table_info',
      ]);
    });
  });

  it('refuses without pgq_node, naming what to install, and changes nothing', async () => {
    const database = await db.createDatabase('nonode');
    await withClient(database, async (client) => {
      await installSchemas(client, ['pgq']);
      const error = await installSchemas(client, ['londiste']).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toBe(
        `schema londiste needs schema pgq_node, which is not installed in database ${database}; install both: skytools install pgq_node londiste`,
      );
      const { rows } = await client.query(`select to_regnamespace('londiste') is null as absent`);
      expect(rows[0]?.absent).toBe(true);
    });
  });

  it('re-installs in place, keeping the rows of the node', async () => {
    await db.query(`select pgq_node.register_location('rq', 'n1', 'dbname=x', false)`);
    await db.query(`select pgq_node.create_node('rq', 'root', 'n1', 'w', null, null, null)`);
    await db.query(
      `insert into londiste.table_info (queue_name, table_name, local, merge_state) values ('rq', 'public.t', true, 'ok')`,
    );
    await withClient(db.name, async (client) => {
      const [result] = await installSchemas(client, ['londiste']);
      expect(result?.previous).toBe(result?.current);
    });
    const { rows } = await db.query('select table_name, merge_state from londiste.table_info');
    expect(rows).toEqual([{ table_name: 'public.t', merge_state: 'ok' }]);
    const roles = await db.query(
      `select rolname from pg_roles where rolname in ('londiste_reader', 'londiste_writer') order by 1`,
    );
    expect(roles.rows.map((r) => r.rolname)).toEqual(['londiste_reader', 'londiste_writer']);
  });

  it('refuses over the upstream londiste extension, by the installer and by the SQL file', async () => {
    const database = await db.createDatabase('upstream');
    await withClient(database, async (client) => {
      const available = await client.query(
        "select 1 from pg_available_extensions where name = 'londiste'",
      );
      if (available.rowCount === 0) {
        // Only Debian's PostgreSQL 15 packages have it; .ci/run installs them, so 15 must have it.
        expect(db.cluster.pgMajor).not.toBe(15);
        return;
      }
      await client.query('create extension londiste cascade');
      const error = await installSchemas(client, ['londiste']).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(
        /^database .* has the upstream extension londiste 3\.8 installed; skytools will not install over it/,
      );
      await expect(client.query(`begin;\n${sqlBundle('londiste')}\ncommit;`)).rejects.toThrow(
        /the upstream extension londiste is installed in this database; skytools will not install over it/,
      );
      await client.query('rollback');
      const { rows } = await client.query(
        "select to_regprocedure('londiste.skytools_version()') is null as untouched",
      );
      expect(rows[0]?.untouched).toBe(true);
    });
  });

  it('installs as a database owner without superuser, as on managed servers', async () => {
    await db.query(`create role ${quoteIdent(owner)} login nosuperuser nocreaterole`);
    ownedDatabase = await db.createDatabase('owned', { owner });
    const client = new pg.Client(db.config({ database: ownedDatabase, user: owner }));
    await client.connect();
    try {
      const results = await installSchemas(client, ['pgq', 'pgq_node', 'londiste']);
      expect(results.map((r) => r.schema)).toEqual(['pgq', 'pgq_node', 'londiste']);
      await client.query(`select * from pgq_node.register_location('mq', 'n1', 'dbname=x', false)`);
      await client.query(
        `select * from pgq_node.create_node('mq', 'root', 'n1', 'w', null, null, null)`,
      );
      await client.query('create table public.t (id int primary key, v text)');
      const added = await client.query(`select * from londiste.local_add_table('mq', 'public.t')`);
      expect(added.rows[0]).toEqual({ ret_code: 200, ret_note: 'Table added: public.t' });
      await client.query(`insert into public.t values (1, 'x')`);
      // The londiste.add-table event and the row's event, both written as the owner.
      const table = await client.query(`select pgq.current_event_table('mq') as t`);
      const events = await client.query(
        `select ev_type, ev_data from ${table.rows[0]?.t} order by ev_id`,
      );
      expect(events.rows).toEqual([
        { ev_type: 'londiste.add-table', ev_data: 'public.t' },
        { ev_type: 'I:id', ev_data: 'id=1&v=x' },
      ]);
    } finally {
      await client.end();
    }
  });
});

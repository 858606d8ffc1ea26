/**
 * Installing schema londiste: on top of pgq and pgq_node, in one call with them, again over
 * itself (a no-op that keeps the node's rows), and refused with one clear line where pgq_node
 * is missing.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

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
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { sqlBundle } from '../../src/db/sql-bundle.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';
import { psqlBinary } from '../harness/psql.js';

const db = useTestDatabase();
const startCluster = useExtraClusters();

async function withConfig<T>(config: pg.ClientConfig, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function withClient<T>(database: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client(db.config({ database }));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('installing pgq_ext', () => {
  it('installs alone into a database without pgq (a remote consumer target)', async () => {
    const database = await db.createDatabase('target');
    await withClient(database, async (client) => {
      const [result] = await installSchemas(client, ['pgq_ext']);
      expect(result).toMatchObject({ schema: 'pgq_ext', previous: null });
      const { rows } = await client.query(
        `select pgq_ext.version() as v, pgq_ext.skytools_version() as s,
                to_regnamespace('pgq') is null as no_pgq`,
      );
      expect(rows[0]).toEqual({ v: '3.3', s: result?.current, no_pgq: true });
      const tables = await client.query(
        "select tablename from pg_tables where schemaname = 'pgq_ext' order by 1",
      );
      expect(tables.rows.map((row) => row.tablename)).toEqual([
        'completed_batch',
        'completed_event',
        'completed_tick',
        'partial_batch',
      ]);
    });
  });

  it('a re-run keeps every record', async () => {
    const database = await db.createDatabase('rerun');
    await withClient(database, async (client) => {
      const [first] = await installSchemas(client, ['pgq_ext']);
      await client.query(`select pgq_ext.set_batch_done('c', 's', 5),
                                 pgq_ext.set_event_done('c', 's', 5, 1),
                                 pgq_ext.set_last_tick('c', 's', 9)`);
      const dump = `select (select json_agg(t) from pgq_ext.completed_batch t) as b,
                           (select json_agg(t) from pgq_ext.completed_event t) as e,
                           (select json_agg(t) from pgq_ext.partial_batch t) as p,
                           (select json_agg(t) from pgq_ext.completed_tick t) as k`;
      const before = (await client.query(dump)).rows;
      const [again] = await installSchemas(client, ['pgq_ext']);
      expect(again).toMatchObject({ previous: first?.current, current: first?.current });
      expect((await client.query(dump)).rows).toEqual(before);
    });
  });

  it('single-file install with psql -1 -f, twice', async () => {
    const database = await db.createDatabase('psql');
    const dir = mkdtempSync(path.join(tmpdir(), 'skytools-bundle-'));
    try {
      const file = path.join(dir, 'pgq_ext.sql');
      writeFileSync(file, sqlBundle('pgq_ext'));
      const url = db.url.replace(/\/[^/]*$/, `/${encodeURIComponent(database)}`);
      for (let run = 0; run < 2; run++) {
        const result = spawnSync(
          psqlBinary(),
          [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1', '-f', file],
          {
            encoding: 'utf8',
            env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
          },
        );
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await withClient(database, async (client) => {
      expect((await client.query('select pgq_ext.version() as v')).rows[0]?.v).toBe('3.3');
    });
  });

  it('creates role pgq_writer when missing; a database owner without CREATEROLE is told what to run', async () => {
    // A cluster of its own: no pgq roles yet (roles are cluster-wide).
    const cluster = await startCluster();
    await withConfig(cluster.connectionConfig(), async (admin) => {
      await admin.query('create role app_owner login nosuperuser nocreaterole');
      await admin.query('create database app owner app_owner');
      await admin.query('create database other');
    });
    await withConfig({ ...cluster.connectionConfig('app'), user: 'app_owner' }, async (client) => {
      const [result] = await installSchemas(client, ['pgq_ext']);
      expect(result?.notices).toEqual([
        'pgq_ext role missing; an administrator must run: create role pgq_writer;',
      ]);
      // The owner itself may use everything.
      expect((await client.query("select pgq_ext.set_batch_done('c', 1) as r")).rows[0]?.r).toBe(
        true,
      );
    });
    await withConfig(cluster.connectionConfig('other'), async (superuser) => {
      const [result] = await installSchemas(superuser, ['pgq_ext']);
      expect(result?.notices).toEqual([]);
      const { rows } = await superuser.query(
        `select has_function_privilege('pgq_writer', 'pgq_ext.set_batch_done(text, bigint)',
                                       'execute') as ok`,
      );
      expect(rows[0]?.ok).toBe(true);
    });
    // Now that the role exists, re-installing in app completes its grants.
    await withConfig({ ...cluster.connectionConfig('app'), user: 'app_owner' }, async (client) => {
      const [result] = await installSchemas(client, ['pgq_ext']);
      expect(result?.notices).toEqual([]);
      const { rows } = await client.query(
        `select has_function_privilege('pgq_writer', 'pgq_ext.set_batch_done(text, bigint)',
                                       'execute') as ok`,
      );
      expect(rows[0]?.ok).toBe(true);
    });
  });
});

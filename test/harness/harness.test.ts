import { describe, expect, inject, it } from 'vitest';
import { useExtraClusters } from './clusters.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();
const startCluster = useExtraClusters();

describe('test harness', () => {
  it('gives the file its own fresh database on the run cluster', async () => {
    const { rows } = await db.query<{ db: string; tables: number }>(
      "select current_database() as db, (select count(*)::int from pg_tables where schemaname = 'public') as tables",
    );
    expect(rows[0]).toEqual({ db: db.name, tables: 0 });
    expect(db.name).toMatch(/^t_harness_[a-z0-9]{6}$/);
  });

  it('runs the PostgreSQL major the run was started with', async () => {
    const { rows } = await db.query<{ v: number }>(
      "select current_setting('server_version_num')::int as v",
    );
    const expected = process.env.SKYTOOLS_PG_BIN ? null : 18;
    const major = Math.floor((rows[0]?.v ?? 0) / 10000);
    expect(major).toBe(inject('sharedCluster').pgMajor);
    if (expected !== null) expect(major).toBe(expected);
  });

  it('closes clients it handed out and drops the database after the file', async () => {
    const client = await db.connect();
    await client.query('create table kept_until_drop (id int)');
    const { rows } = await db.query('select 1 from kept_until_drop');
    expect(rows).toEqual([]);
  });

  it('starts extra clusters side by side with the same binaries', async () => {
    const other = await startCluster();
    expect(other.port).not.toBe(db.cluster.port);
    expect(other.binDir).toBe(db.cluster.binDir);
    expect(other.status().state).toBe('running');
  });
});

/**
 * A copy between servers of different major versions goes by COPY text: the binary formats
 * are only taken between servers of one version. The run's cluster is the source; the
 * destination is a throwaway cluster of the other version here (15 beside the embedded 18,
 * the embedded 18 on the 15 leg).
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { resolvePgBinaries } from '../../src/pg/index.js';
import { useTestDatabase } from '../harness/database.js';
import { useClusterOfVersion } from './cross-version-cluster.js';
import { type CopyDatabases, contents, definitions, runCopy } from './helpers.js';

const test = useTestDatabase();
const otherCluster = useClusterOfVersion();

const ddl = `
create table public.versions (
  id int primary key, n numeric, ts timestamptz, j jsonb, a text[], b bytea, iv interval
);
create index versions_ts on public.versions (ts);`;

describe('copyTable between major versions', () => {
  it('copies by text, values unchanged', async () => {
    const { binDir } = inject('sharedCluster');
    const here = await resolvePgBinaries(binDir);
    const cluster = await otherCluster(here.major);
    expect(cluster.pgMajor).not.toBe(here.major);
    const dest = new pg.Client(cluster.connectionConfig('postgres'));
    dest.on('error', () => {});
    await dest.connect();
    try {
      // A superuser session: no londiste schema needed for the replica role.
      await dest.query('set session_replication_role = replica');
      const source = await test.connect();
      await source.query(ddl);
      await dest.query(ddl);
      await source.query(`insert into public.versions
        select i, case when i % 10 = 0 then 'NaN' else i / 7.0 end,
               case when i = 1 then 'infinity' else '2026-01-01'::timestamptz + i * interval '1 min' end,
               jsonb_build_object('i', i, 'a', array[i, null]), array['x' || i, null, 'q"'],
               decode(md5(i::text), 'hex'), i * interval '1 day 1 sec'
          from generate_series(1, 5000) i`);
      const before = await definitions(dest, 'public.versions');
      const dbs = { source, dest } as CopyDatabases;
      const result = await runCopy(dbs, 'public.versions');
      expect(result.format).toBe('text');
      expect(result.rows).toBe(5000);
      expect(await contents(dest, 'public.versions')).toEqual(
        await contents(source, 'public.versions'),
      );
      expect(await definitions(dest, 'public.versions')).toEqual(before);
    } finally {
      await dest.end();
    }
  });
});

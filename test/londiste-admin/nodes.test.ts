/**
 * create-* for Londiste: a dry run installs nothing; a foreign `londiste` schema is refused
 * before any node exists; on PostgreSQL 15 with Debian's packages, a database with
 * upstream's londiste extension keeps it and serves as root and leaf, and upstream's own
 * `londiste` prints `tables`, `seqs` and `missing` exactly as ours does on the same node.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { londiste, tableRows, useNodes } from './helpers.js';

const test = useTestDatabase();
const node = useNodes(test);

afterEach(() => {
  vi.restoreAllMocks();
});

async function upstreamAvailable(): Promise<boolean> {
  const { rows } = await test.query(
    `select 1 from pg_available_extensions where name = 'londiste'`,
  );
  if (rows.length === 0) {
    // Only Debian's PostgreSQL 15 packages have it; .ci/run installs them there.
    expect(test.cluster.pgMajor).not.toBe(15);
    return false;
  }
  return true;
}

describe('create-* and the londiste schema', () => {
  it('a dry run prints the install and installs nothing', async () => {
    const root = await node('dry', 'q', { empty: true });
    const dry = await londiste([root.ini, 'create-root', 'dry', root.connstr, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('[dry-run] on dry: install schema londiste');
    const { rows } = await root.db.query(
      `select nspname from pg_namespace where nspname in ('pgq', 'pgq_node', 'londiste')`,
    );
    expect(rows).toEqual([]);
  });

  it('refuses a londiste schema skytools did not install, before the node is made', async () => {
    const root = await node('foreign', 'q', { empty: true });
    await root.db.query('create schema londiste');
    const made = await londiste([root.ini, 'create-root', 'foreign', root.connstr]);
    expect(made.code).toBe(1);
    expect(made.stderr).toContain('schema londiste already exists in database');
    expect(made.stderr).toContain('was not installed by skytools; refusing to change it');
    const { rows } = await root.db.query('select count(*)::int as n from pgq_node.node_info');
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("upstream's londiste extension is kept and works for root and leaf", async () => {
    if (!(await upstreamAvailable())) return;
    const root = await node('uproot', 'uq', { empty: true });
    const leaf = await node('upleaf', 'uq', { empty: true });
    for (const n of [root, leaf]) await n.db.query('create extension londiste cascade');
    await root.db.query('create table public.t1 (id int primary key, v text)');
    expect((await londiste([root.ini, 'create-root', 'uproot', root.connstr])).code).toBe(0);
    expect((await londiste([root.ini, 'add-table', 't1'])).code).toBe(0);
    const made = await londiste([
      leaf.ini,
      'create-leaf',
      'upleaf',
      leaf.connstr,
      `--provider=${root.connstr}`,
    ]);
    expect(made.stderr).not.toContain('error');
    expect(made.code).toBe(0);
    const added = await londiste([leaf.ini, 'add-table', 't1', '--create']);
    expect(added.code).toBe(0);
    expect(await tableRows(leaf.db, 'uq')).toMatchObject([
      { table_name: 'public.t1', local: true },
    ]);
    const { rows } = await leaf.db.query(
      `select extversion, to_regprocedure('londiste.skytools_version()') is null as not_ours from pg_extension where extname = 'londiste'`,
    );
    expect(rows).toEqual([{ extversion: '3.8', not_ours: true }]);
  });

  it("upstream's londiste prints tables, seqs and missing as ours does", async () => {
    if (!(await upstreamAvailable())) return;
    expect(existsSync('/usr/bin/londiste')).toBe(true);
    const root = await node('cmproot', 'cq', { empty: true });
    await root.db.query(`
      create table public.t1 (id int primary key, v text);
      create table public."MixedCase" (id int primary key);
      create table public.nopk (x int);
      create sequence public.s1;`);
    expect((await londiste([root.ini, 'create-root', 'cmproot', root.connstr])).code).toBe(0);
    const add = [
      'add-table',
      't1',
      'MixedCase',
      '--handler=londiste',
      '--handler-arg=ignore_truncate=1',
    ];
    expect((await londiste([root.ini, ...add])).code).toBe(0);
    expect((await londiste([root.ini, 'add-seq', 's1'])).code).toBe(0);
    for (const command of [['tables'], ['tables', '--names-only'], ['seqs'], ['missing']]) {
      const theirs = spawnSync('/usr/bin/londiste', [root.ini, ...command], { encoding: 'utf8' });
      const ours = await londiste([root.ini, ...command]);
      expect({ command, stdout: ours.stdout }).toEqual({ command, stdout: theirs.stdout });
    }
  });
});

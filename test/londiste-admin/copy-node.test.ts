/**
 * Where a copy comes from, on root -> branch -> leaf: a table the branch does not replicate
 * is refused on the leaf unless another node copies it; --find-copy-node walks up to the
 * first node holding it with data, --copy-node names one (checked); add-table's DDL gives
 * up after lock_timeout instead of queueing behind a lock for ever.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { type LondisteNode, londiste, snapshot, tableRows, useNodes } from './helpers.js';

const test = useTestDatabase();
const node = useNodes(test);
const queue = 'cq';
let root: LondisteNode;
let branch: LondisteNode;
let leaf: LondisteNode;

beforeAll(async () => {
  root = await node('croot', queue);
  branch = await node('cbranch', queue);
  leaf = await node('cleaf', queue);
  await root.db.query(`
    create table public.t_both (id int primary key, v text);
    create table public.t_rootonly (id int primary key, v text);`);
  const steps: string[][] = [
    [root.ini, 'create-root', 'croot', root.connstr],
    [root.ini, 'add-table', 't_both', 't_rootonly'],
    [branch.ini, 'create-branch', 'cbranch', branch.connstr, `--provider=${root.connstr}`],
    [branch.ini, 'add-table', 't_both', '--create', '--expect-sync'],
    [leaf.ini, 'create-leaf', 'cleaf', leaf.connstr, `--provider=${branch.connstr}`],
  ];
  for (const step of steps) {
    const result = await londiste(step);
    if (result.code !== 0) throw new Error(`${step.slice(1).join(' ')}: ${result.stderr}`);
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

const attrsOf = async (table: string) =>
  (await tableRows(leaf.db, queue)).find((r) => r.table_name === table)?.table_attrs;

describe('the copy source', () => {
  it('refuses a table the provider does not replicate, or a copy node without it', async () => {
    const before = await snapshot(leaf.db);
    const refused = await londiste([leaf.ini, 'add-table', 't_rootonly', '--create']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Table public.t_rootonly does not exist on provider, need to switch to different provider',
    );
    const wrongNode = await londiste([
      leaf.ini,
      'add-table',
      't_rootonly',
      '--create',
      '--copy-node=cbranch',
    ]);
    expect(wrongNode.code).toBe(1);
    expect(wrongNode.stderr).toContain(
      'Table public.t_rootonly does not exist on copy node cbranch',
    );
    const unknown = await londiste([leaf.ini, 'add-table', 't_rootonly', '--copy-node=nosuch']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('node nosuch is not a member of queue cq');
    const both = await londiste([
      leaf.ini,
      'add-table',
      't_both',
      '--copy-node=croot',
      '--find-copy-node',
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--copy-node and --find-copy-node cannot be used together');
    expect(await snapshot(leaf.db)).toEqual(before);
  });

  it('--find-copy-node takes the first node up the cascade that has the table', async () => {
    const rootOnly = await londiste([
      leaf.ini,
      'add-table',
      't_rootonly',
      '--create',
      '--find-copy-node',
    ]);
    expect(rootOnly.stderr).not.toContain('error');
    expect(rootOnly.code).toBe(0);
    expect(rootOnly.stderr).toContain('Found copy node: croot');
    expect(await attrsOf('public.t_rootonly')).toBe('copy_node=croot');
    const both = await londiste([leaf.ini, 'add-table', 't_both', '--create', '--find-copy-node']);
    expect(both.code).toBe(0);
    expect(both.stderr).toContain('Found copy node: cbranch');
    expect(await attrsOf('public.t_both')).toBe('copy_node=cbranch');
  });

  it('resync --copy-node stores the new copy node', async () => {
    const resync = await londiste([leaf.ini, 'resync', 't_both', '--copy-node=croot']);
    expect(resync.code).toBe(0);
    expect(await attrsOf('public.t_both')).toBe('copy_node=croot');
  });

  it("add-table's DDL gives up after lock_timeout behind a lock", async () => {
    await root.db.query('create table public.t_locked (id int primary key)');
    const holder = await test.connect({ database: root.db.database });
    try {
      await holder.query('begin');
      await holder.query('lock table public.t_locked in access exclusive mode');
      const result = await londiste([
        root.ini,
        '--set',
        'lock_timeout=0.5',
        'add-table',
        't_locked',
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('canceling statement due to statement timeout');
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    expect((await tableRows(root.db, queue)).map((r) => r.table_name)).not.toContain(
      'public.t_locked',
    );
  });
});

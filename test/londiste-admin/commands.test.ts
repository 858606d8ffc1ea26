/**
 * Londiste's admin commands on a root and a leaf (two databases): create-root installs the
 * londiste schema, create-leaf takes over the provider's tables and sequences (filtered),
 * add-table with its switches and the table_attrs and triggers they leave, globs and --all,
 * hostile names, missing, seqs, remove, change-handler, resync, dry runs, and bad input
 * refused with one line and nothing changed. The tests build on each other, in order.
 */
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  type LondisteNode,
  londiste,
  snapshot,
  tableRows,
  triggersOf,
  useNodes,
} from './helpers.js';

const test = useTestDatabase();
const node = useNodes(test);
const queue = 'rep q';
let root: LondisteNode;
let leaf: LondisteNode;
const weird = 'Sch.we.ird"q ä';

beforeAll(async () => {
  root = await node('lroot', queue, { empty: true });
  leaf = await node('lleaf', queue, {
    keys: { register_skip_tables: 'public.log_b', register_only_seqs: 'public.s*' },
  });
  await root.db.query(`
    create table public.t1 (id int primary key, v text);
    create table public.t2 (id int primary key, v text);
    create table public.log_a (id int primary key);
    create table public.log_b (id int primary key);
    create table public."MixedCase" (id int primary key);
    create schema "Sch";
    create table "Sch"."we.ird""q ä" (id int primary key, "Col" text check ("Col" <> ''));
    create index on "Sch"."we.ird""q ä" ("Col");
    create table public.nopk (x int);
    create sequence public.s1;
    create sequence public.other_seq;`);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** One line of stderr per refusal, naming the problem; exit 1. */
function refused(result: { code: number; stderr: string }, text: string) {
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(text);
}

describe('the root', () => {
  it('create-root installs pgq, pgq_node and londiste in an empty database', async () => {
    const made = await londiste([root.ini, 'create-root', 'lroot', root.connstr]);
    expect(made.stderr).toContain('lroot: installed schema londiste');
    expect(made.code).toBe(0);
    const { rows } = await root.db.query('select londiste.version() as v');
    expect(rows).toEqual([{ v: '3.8' }]);
  });

  it('refuses bad input with one line and changes nothing', async () => {
    const before = await snapshot(root.db);
    refused(
      await londiste([root.ini, 'add-table', 't1', 'nopk']),
      'Primary key missing on table: public.nopk',
    );
    const unknown = await londiste([root.ini, 'add-table', 'nosuch']);
    refused(unknown, 'WARNING: public.nosuch not available');
    expect(unknown.stderr).toContain('Cannot proceed');
    refused(await londiste([root.ini, 'add-table', 'zz*']), 'no table matches "zz*"');
    refused(
      await londiste([root.ini, 'add-table', 't1', '--merge-all', '--no-merge']),
      'Cannot use merge-all and no-merge together',
    );
    refused(
      await londiste([root.ini, 'add-table', 't1', 't2', '--dest-table=x']),
      '--dest-table works with one table only',
    );
    refused(
      await londiste([root.ini, 'add-table', 't1', '--trigger-flags=XZ']),
      '--trigger-flags takes letters of BAIUDLQJS',
    );
    refused(
      await londiste([root.ini, 'add-table', 't1', '--no-triggers', '--trigger-arg=backup']),
      '--no-triggers cannot be used with',
    );
    refused(
      await londiste([root.ini, 'add-table', 't1', '--max-parallel-copy=0']),
      '--max-parallel-copy must be a positive integer',
    );
    refused(
      await londiste([root.ini, 'add-table', '--all']),
      'Primary key missing on table: public.nopk',
    );
    refused(await londiste([root.ini, 'add-table']), 'add-table needs table names or --all');
    refused(
      await londiste([root.ini, 'add-table', 't1', '--copy-node=x']),
      'the root copies from nobody',
    );
    expect(await snapshot(root.db)).toEqual(before);
  });

  it('add-table takes stored names: case kept, quotes, dots and unicode', async () => {
    const added = await londiste([root.ini, 'add-table', 't1', 'MixedCase', weird]);
    expect(added.code).toBe(0);
    expect(added.stderr).toContain('lroot: Table added: public.t1');
    expect(added.stderr).toContain('lroot: Table added: public.MixedCase');
    expect(added.stderr).toContain(`lroot: Table added: ${weird}`);
    expect(await tableRows(root.db, queue)).toEqual([
      {
        table_name: 'public.t1',
        local: true,
        merge_state: 'ok',
        table_attrs: null,
        dest_table: null,
      },
      {
        table_name: 'public.MixedCase',
        local: true,
        merge_state: 'ok',
        table_attrs: null,
        dest_table: null,
      },
      { table_name: weird, local: true, merge_state: 'ok', table_attrs: null, dest_table: null },
    ]);
    expect((await triggersOf(root.db, '"Sch"."we.ird""q ä"')).map((t) => t.tgname)).toEqual([
      '_londiste_rep q',
      '_londiste_rep q_truncate',
    ]);
    // A second add of the same name: nothing to do, as upstream says it.
    const again = await londiste([root.ini, 'add-table', 'public.t1']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('public.t1 already processed');
    expect(again.stderr).toContain('what to do ?');
  });

  it('globs match stored names; --all takes every table not yet added', async () => {
    const globbed = await londiste([root.ini, 'add-table', 'public.log_*']);
    expect(globbed.code).toBe(0);
    expect(globbed.stderr).toContain('Table added: public.log_a');
    expect(globbed.stderr).toContain('Table added: public.log_b');
    await root.db.query('drop table public.nopk');
    const all = await londiste([root.ini, 'add-table', '--all']);
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('Table added: public.t2');
    const names = (await tableRows(root.db, queue)).map((r) => r.table_name);
    expect(names).toEqual([
      'public.t1',
      'public.MixedCase',
      weird,
      'public.log_a',
      'public.log_b',
      'public.t2',
    ]);
  });

  it('tables, add-seq, seqs and missing print as upstream', async () => {
    const tables = await londiste([root.ini, 'tables']);
    expect(tables.code).toBe(0);
    expect(tables.stdout).toBe(
      [
        'Tables on node',
        'table_name        merge_state      table_attrs',
        '----------------  ---------------  ---------------',
        'Sch.we.ird"q ä    ok               ',
        'public.MixedCase  ok               ',
        'public.log_a      ok               ',
        'public.log_b      ok               ',
        'public.t1         ok               ',
        'public.t2         ok               ',
        '',
        '',
        '',
      ].join('\n'),
    );
    const names = await londiste([root.ini, 'tables', '--names-only']);
    expect(names.stdout.split('\n')[0]).toBe('Sch.we.ird"q ä');
    const seq = await londiste([root.ini, 'add-seq', 's1']);
    expect(seq.code).toBe(0);
    expect(seq.stderr).toContain('lroot: Sequence added: public.s1');
    const seqs = await londiste([root.ini, 'seqs']);
    expect(seqs.stdout).toBe(
      [
        'Sequences on node',
        'seq_name         local            last_value',
        '---------------  ---------------  ---------------',
        'public.s1        True             30001',
        '',
        '',
        '',
      ].join('\n'),
    );
    const missing = await londiste([root.ini, 'missing']);
    expect(missing.stdout).toContain('Missing objects on node\nobj_kind         obj_name\n');
    expect(missing.stdout).toContain('S                public.other_seq');
    expect(missing.stdout).not.toContain('public.t1');
  });
});

describe('a leaf', () => {
  it("create-leaf takes over the provider's tables and sequences, filtered", async () => {
    // A table in the set that is not local on the provider (as a branch may have one).
    await root.db.query(`select * from londiste.global_add_table($1, 'public.ghost')`, [queue]);
    const made = await londiste([
      leaf.ini,
      'create-leaf',
      'lleaf',
      leaf.connstr,
      `--provider=${root.connstr}`,
    ]);
    expect(made.stderr).not.toContain('error');
    expect(made.code).toBe(0);
    const rows = await tableRows(leaf.db, queue);
    expect(rows.map((r) => [r.table_name, r.local])).toEqual([
      ['public.t1', false],
      ['public.MixedCase', false],
      [weird, false],
      ['public.log_a', false],
      ['public.t2', false],
      ['public.ghost', false],
    ]);
    const { rows: seqs } = await leaf.db.query(
      'select seq_name, local, last_value from londiste.seq_info',
    );
    expect(seqs).toEqual([{ seq_name: 'public.s1', local: false, last_value: '30001' }]);
  });

  it('refuses a table missing here, or not local on the provider; nothing changes', async () => {
    const before = await snapshot(leaf.db);
    refused(await londiste([leaf.ini, 'add-table', 't1']), 'Table does not exist: public.t1');
    refused(
      await londiste([leaf.ini, 'add-table', 'ghost', '--create']),
      'Table public.ghost does not exist on provider, need to switch to different provider',
    );
    // Skipped by register_skip_tables at create-leaf, but the provider has it: it may be added.
    refused(await londiste([leaf.ini, 'add-table', 'log_b']), 'Table does not exist: public.log_b');
    const skipped = await londiste([leaf.ini, 'add-table', 'ghost', '--skip-non-existing']);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain('does not exist on provider');
    expect(await snapshot(leaf.db)).toEqual(before);
  });

  it('--dry-run prints the changes and makes none', async () => {
    const before = await snapshot(leaf.db);
    const dry = await londiste([leaf.ini, 'add-table', 't1', '--create', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      '[dry-run] on lleaf: create table public.t1 (id integer not null, v text)',
    );
    expect(dry.stdout).toContain('[dry-run] on lleaf: select * from londiste.local_add_table(');
    expect(await snapshot(leaf.db)).toEqual(before);
  });

  it('--create makes the table (columns, primary key); it waits for its copy, writes denied', async () => {
    const added = await londiste([leaf.ini, 'add-table', 't1', '--create']);
    expect(added.code).toBe(0);
    expect(added.stderr).toContain('Creating public.t1');
    expect(added.stderr).toContain('Creating t1_pkey');
    expect(added.stderr).toContain('lleaf: Table added: public.t1');
    const row = (await tableRows(leaf.db, queue)).find((r) => r.table_name === 'public.t1');
    expect(row).toMatchObject({ local: true, merge_state: null, table_attrs: null });
    const defs = (await triggersOf(leaf.db, 'public.t1')).map((t) => t.def);
    expect(defs[0]).toContain(`pgq.logutriga('rep q', 'deny')`);
    await expect(leaf.db.query(`insert into public.t1 values (1, 'x')`)).rejects.toThrow();
  });

  it('--create-full, --expect-sync, --skip-truncate, --max-parallel-copy and trigger switches', async () => {
    const added = await londiste([
      leaf.ini,
      'add-table',
      weird,
      '--create-full',
      '--skip-truncate',
      '--max-parallel-copy=2',
      '--trigger-flags=BI',
      '--trigger-arg=backup',
      '--copy-node=lroot',
    ]);
    expect(added.stderr).not.toContain('error');
    expect(added.code).toBe(0);
    const row = (await tableRows(leaf.db, queue)).find((r) => r.table_name === weird);
    expect(row).toMatchObject({
      local: true,
      merge_state: null,
      table_attrs: 'copy_node=lroot&skip_truncate=1&max_parallel_copy=2',
    });
    const triggers = await triggersOf(leaf.db, '"Sch"."we.ird""q ä"');
    expect(triggers[0]?.def).toMatch(/BEFORE INSERT .*pgq\.logutriga\('rep q', 'backup', 'deny'\)/);
    const { rows: check } = await leaf.db.query(
      `select count(*)::int as n from pg_constraint where conrelid = '"Sch"."we.ird""q ä"'::regclass and contype = 'c'`,
    );
    expect(check).toEqual([{ n: 1 }]);
    const { rows: idx } = await leaf.db.query(
      `select count(*)::int as n from pg_index where indrelid = '"Sch"."we.ird""q ä"'::regclass`,
    );
    expect(idx).toEqual([{ n: 2 }]);

    const sync = await londiste([
      leaf.ini,
      'add-table',
      'MixedCase',
      '--create',
      '--expect-sync',
      '--wait-sync',
    ]);
    expect(sync.code).toBe(0);
    expect(sync.stderr).toContain('All tables in sync');
    expect(
      (await tableRows(leaf.db, queue)).find((r) => r.table_name === 'public.MixedCase'),
    ).toMatchObject({
      merge_state: 'ok',
    });
  });

  it('--dest-table applies into another table; --no-triggers makes none; --find-copy-node', async () => {
    await leaf.db.query('create table public.t2_here (id int primary key, v text)');
    const dest = await londiste([
      leaf.ini,
      'add-table',
      't2',
      '--dest-table=t2_here',
      '--find-copy-node',
    ]);
    expect(dest.stderr).not.toContain('error');
    expect(dest.code).toBe(0);
    expect(dest.stderr).toContain('Found copy node: lroot');
    expect(
      (await tableRows(leaf.db, queue)).find((r) => r.table_name === 'public.t2'),
    ).toMatchObject({
      dest_table: 'public.t2_here',
      table_attrs: 'copy_node=lroot',
    });
    expect((await triggersOf(leaf.db, 'public.t2_here'))[0]?.def).toContain(
      `ev_extra1=''public.t2''`,
    );
    const none = await londiste([leaf.ini, 'add-table', 'log_a', '--create', '--no-triggers']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('Table added with no triggers: public.log_a');
    expect(await triggersOf(leaf.db, 'public.log_a')).toEqual([]);
  });

  it('missing lists the set objects not local here', async () => {
    const missing = await londiste([leaf.ini, 'missing']);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain('r                public.ghost');
    expect(missing.stdout).toContain('S                public.s1');
    expect(missing.stdout).not.toContain('public.t1');
  });

  it('change-handler re-creates the triggers, keeping the other attributes', async () => {
    const changed = await londiste([leaf.ini, 'change-handler', weird, '--trigger-arg=backup']);
    expect(changed.code).toBe(0);
    expect(changed.stderr).toContain(`Handler changed for table: ${weird}`);
    const triggers = await triggersOf(leaf.db, '"Sch"."we.ird""q ä"');
    expect(triggers[0]?.def).toMatch(/AFTER INSERT OR DELETE OR UPDATE .*'backup', 'deny'\)/);
    expect((await tableRows(leaf.db, queue)).find((r) => r.table_name === weird)?.table_attrs).toBe(
      'copy_node=lroot&skip_truncate=1&max_parallel_copy=2',
    );
    refused(
      await londiste([leaf.ini, 'change-handler', 'ghost']),
      'no such local table: public.ghost',
    );
  });

  it('resync sets a table back to a full copy, from the copy node if asked', async () => {
    const resynced = await londiste([leaf.ini, 'resync', 'MixedCase', '--copy-node=lroot']);
    expect(resynced.code).toBe(0);
    expect(resynced.stderr).toContain('Table public.MixedCase state set to NULL');
    expect(
      (await tableRows(leaf.db, queue)).find((r) => r.table_name === 'public.MixedCase'),
    ).toMatchObject({
      merge_state: null,
      table_attrs: 'copy_node=lroot',
    });
    refused(await londiste([leaf.ini, 'resync', 'ghost']), 'public.ghost not available');
    refused(await londiste([root.ini, 'resync', 't1']), 'resync is for branches and leaves');
  });

  it('add-seq needs the sequence here or --create; remove-seq', async () => {
    refused(
      await londiste([leaf.ini, 'add-seq', 's1']),
      "Sequence 'public.s1' missing on local node",
    );
    const added = await londiste([leaf.ini, 'add-seq', 's1', '--create']);
    expect(added.code).toBe(0);
    expect(added.stderr).toContain('Creating public.s1');
    const { rows } = await leaf.db.query('select last_value::text as v from public.s1');
    expect(rows).toEqual([{ v: '30001' }]);
    const removed = await londiste([leaf.ini, 'remove-seq', 's1']);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain('Sequence removed: public.s1');
  });

  it('remove-table drops the triggers; on the root the table leaves the set', async () => {
    const dry = await londiste([leaf.ini, 'remove-table', 't1', '--dry-run']);
    expect(dry.stdout).toContain('[dry-run] on lleaf: select * from londiste.local_remove_table(');
    const removed = await londiste([leaf.ini, 'remove-table', 't1']);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain('lleaf: Table removed: public.t1');
    expect(await triggersOf(leaf.db, 'public.t1')).toEqual([]);
    expect((await tableRows(leaf.db, queue)).find((r) => r.table_name === 'public.t1')?.local).toBe(
      false,
    );
    const again = await londiste([leaf.ini, 'remove-table', 't1']);
    expect(again.stderr).toContain('public.t1 already processed');
    const onRoot = await londiste([root.ini, 'remove-table', 'log_b']);
    expect(onRoot.code).toBe(0);
    expect((await tableRows(root.db, queue)).map((r) => r.table_name)).not.toContain(
      'public.log_b',
    );
  });
});

describe('handlers', () => {
  it('show-handlers lists the handlers, or the help of the named ones', async () => {
    const list = await londiste([root.ini, 'show-handlers']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^londiste - \S/m);
    const one = await londiste([root.ini, 'show-handlers', 'londiste']);
    expect(one.stdout).toContain('  ignore_truncate: ');
    refused(await londiste([root.ini, 'show-handlers', 'nosuch']), 'Unknown handler: nosuch');
  });

  it('--handler and --handler-arg are checked and stored as handler=name(args)', async () => {
    await root.db.query('create table public.h1 (id int primary key)');
    const before = await snapshot(root.db);
    refused(
      await londiste([root.ini, 'add-table', 'h1', '--handler=londiste', '--handler-arg=bogus=1']),
      "Invalid handler argument: ['bogus']",
    );
    refused(
      await londiste([root.ini, 'add-table', 'h1', '--handler=nosuch']),
      'Unknown handler: nosuch',
    );
    expect(await snapshot(root.db)).toEqual(before);
    const added = await londiste([
      root.ini,
      'add-table',
      'h1',
      '--handler=londiste',
      '--handler-arg=ignore_truncate=1',
    ]);
    expect(added.code).toBe(0);
    const attrs = (await tableRows(root.db, queue)).find(
      (r) => r.table_name === 'public.h1',
    )?.table_attrs;
    expect(attrs).toMatch(/^handler=londiste%28ignore_truncate%3[dD]1%29$/);
    const tables = await londiste([root.ini, 'tables']);
    expect(tables.stdout).toContain(
      `public.h1         ok               {'handler': 'londiste(ignore_truncate=1)'}`,
    );
  });

  it('change-handler puts the new handler first and keeps the other attributes', async () => {
    const changed = await londiste([
      leaf.ini,
      'change-handler',
      weird,
      '--handler=londiste',
      '--handler-arg=ignore_truncate=1',
    ]);
    expect(changed.code).toBe(0);
    const attrs = (await tableRows(leaf.db, queue)).find(
      (r) => r.table_name === weird,
    )?.table_attrs;
    expect(attrs).toMatch(
      /^handler=londiste%28ignore_truncate%3[dD]1%29&copy_node=lroot&skip_truncate=1&max_parallel_copy=2$/,
    );
  });

  it('a handler of handler_modules plugs in; one that stores nothing needs no table here', async () => {
    const module = path.join(os.tmpdir(), `skytools-nostore-${process.pid}.mjs`);
    writeFileSync(
      module,
      `export const nostore = {
        name: 'nostore',
        description: 'stores nothing\\nEvents of the table are dropped here.',
        args: [],
        create: () => ({
          needsTable: () => false,
          addTriggerArgs: (args) => [...args, 'virtual_table'],
          processEvent() {},
          async flush() {},
          copyCondition: () => null,
        }),
      };\n`,
    );
    try {
      const set = ['--set', `handler_modules=${module}`];
      const list = await londiste([leaf.ini, ...set, 'show-handlers']);
      expect(list.stdout).toContain('nostore - stores nothing\n');
      const added = await londiste([leaf.ini, ...set, 'add-table', 'h1', '--handler=nostore']);
      expect(added.stderr).not.toContain('error');
      expect(added.code).toBe(0);
      expect(
        (await tableRows(leaf.db, queue)).find((r) => r.table_name === 'public.h1'),
      ).toMatchObject({
        local: true,
        table_attrs: 'handler=nostore',
      });
    } finally {
      rmSync(module, { force: true });
    }
  });
});

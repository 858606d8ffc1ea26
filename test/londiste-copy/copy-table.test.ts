/**
 * copyTable between two databases: the rows arrive, the indexes and constraints the copy
 * drops come back exactly as they were, the snapshot is the source transaction's, and the
 * caller's state change commits with the data.
 */
import { describe, expect, it } from 'vitest';
import type { CopyProgress } from '../../src/londiste/copy/copy-table.js';
import { useTestDatabase } from '../harness/database.js';
import {
  contents,
  definitions,
  idle,
  memoryLog,
  onBoth,
  plainHandler,
  runCopy,
  useCopyDatabases,
} from './helpers.js';

const test = useTestDatabase();
const dbs = useCopyDatabases(test);
const stress = process.env.SKYTOOLS_STRESS === '1';

const accountsDdl = `
create table public.branches (id int primary key, name text);
insert into public.branches select i, 'b' || i from generate_series(0, 9) i;
create table public.accounts (
  id bigint primary key,
  branch int not null references public.branches (id),
  email text,
  balance numeric(12, 2) not null default 0 check (balance > -1000),
  note text
);
create unique index accounts_email on public.accounts (lower(email)) where email is not null;
create index accounts_branch on public.accounts (branch, balance desc) with (fillfactor = 80);
alter table public.accounts add constraint accounts_note unique (note);
comment on index public.accounts_branch is 'by branch';
comment on constraint accounts_note on public.accounts is 'notes differ';
alter table public.accounts cluster on accounts_branch;`;

async function fillAccounts(rows: number) {
  await dbs.source.query(
    `insert into public.accounts (id, branch, email, balance, note)
     select i, i % 10, case when i % 7 = 0 then null else 'u' || i || '@example.com' end,
            (i % 5000) - 500, 'note ' || i
       from generate_series(1, $1::int) i`,
    [rows],
  );
  await dbs.source.query('analyze public.accounts');
}

describe('copyTable', { timeout: stress ? 600_000 : 60_000 }, () => {
  it('copies every row and gives back the indexes and constraints it dropped', async () => {
    await onBoth(dbs, accountsDdl);
    await fillAccounts(stress ? 1_000_000 : 100_000);
    // Rows the destination had are replaced; a trigger of the table stays silent for copied rows.
    await dbs.dest.query(`insert into public.accounts (id, branch, note) values (-1, 1, 'old')`);
    await dbs.dest.query(`create function public.refuse() returns trigger language plpgsql as
      $$ begin raise exception 'local write'; end $$;
      create trigger refuse before insert on public.accounts for each row execute function public.refuse()`);
    const before = await definitions(dbs.dest, 'public.accounts');
    expect(before.length).toBeGreaterThanOrEqual(7);

    const progress: CopyProgress[] = [];
    const seen: { snapshot: string; rows: number; inTransaction: boolean }[] = [];
    const result = await runCopy(dbs, 'public.accounts', {
      onProgress: (p) => progress.push(p),
      beforeCommit: async (dest, info) => {
        // Still the copy's transaction: the rows are in and the indexes back.
        const { rows } = await dest.query(
          `select now() <> statement_timestamp() as in_tx,
                  (select count(*) from pg_index where indrelid = 'public.accounts'::regclass)::int as indexes`,
        );
        expect(rows[0].indexes).toBe(4);
        seen.push({ snapshot: info.snapshot, rows: info.rows, inTransaction: rows[0].in_tx });
        await dest.query(`create table public.copy_marker as select $1::text as snapshot`, [
          info.snapshot,
        ]);
      },
    });

    const expectedRows = stress ? 1_000_000 : 100_000;
    expect(result.rows).toBe(expectedRows);
    expect(result.format).toBe('binary');
    expect(result.columns).toEqual(['id', 'branch', 'email', 'balance', 'note']);
    expect(result.snapshot).toMatch(/^\d+:\d+:[\d,]*$/);
    expect(seen).toEqual([{ snapshot: result.snapshot, rows: expectedRows, inTransaction: true }]);
    expect(await contents(dbs.dest, 'public.accounts')).toEqual(
      await contents(dbs.source, 'public.accounts'),
    );
    expect(await definitions(dbs.dest, 'public.accounts')).toEqual(before);
    // The foreign key to branches holds for every copied row.
    const orphans = await dbs.dest.query(
      `select count(*)::int as n from public.accounts a
        where not exists (select 1 from public.branches b where b.id = a.branch)`,
    );
    expect(orphans.rows).toEqual([{ n: 0 }]);
    // Dropped and re-created: the primary key, the unique constraint, the two indexes.
    expect(result.ddl).toHaveLength(6);
    const marker = await dbs.dest.query('select snapshot from public.copy_marker');
    expect(marker.rows).toEqual([{ snapshot: result.snapshot }]);
    expect(progress.at(-1)).toMatchObject({ rows: expectedRows, etaSeconds: 0 });
    expect(progress.at(-1)?.expectedRows).toBeGreaterThan(expectedRows * 0.8);
    // The statistics of the copied rows are there for the replay's plans.
    const stats = await dbs.dest.query(
      `select reltuples::int8 as n from pg_class where oid = 'public.accounts'::regclass`,
    );
    expect(Number(stats.rows[0].n)).toBe(expectedRows);
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
  });

  it('takes only the rows of the copy condition and keeps other rows with skipTruncate', async () => {
    await onBoth(dbs, 'create table public.cond (id int primary key, v text)');
    await dbs.source.query(
      `insert into public.cond select i, 'v' || i from generate_series(1, 1000) i`,
    );
    await dbs.dest.query(`insert into public.cond values (-5, 'local'), (-6, 'local')`);
    const result = await runCopy(dbs, 'public.cond', {
      handler: plainHandler('id % 3 = 0'),
      skipTruncate: true,
    });
    expect(result.rows).toBe(333);
    const { rows } = await dbs.dest.query(
      'select count(*)::int as n, count(*) filter (where id < 0)::int as kept, bool_and(id < 0 or id % 3 = 0) as only from public.cond',
    );
    expect(rows[0]).toEqual({ n: 335, kept: 2, only: true });
  });

  it('lets a handler copy by its own method, in the copy transactions', async () => {
    await onBoth(dbs, 'create table public.own (id int primary key, v text)');
    await dbs.source.query(`insert into public.own select i, 'x' from generate_series(1, 10) i`);
    const calls: string[][] = [];
    const result = await runCopy(dbs, 'public.own', {
      handler: {
        ...plainHandler(),
        async copy(ctx) {
          calls.push([...ctx.columns]);
          const { rows } = await ctx.source.query('select id, v from public.own where id <= 4');
          for (const row of rows) {
            await ctx.dest.query('insert into public.own values ($1, $2)', [row.id, row.v]);
          }
          return { rows: rows.length, bytes: 0 };
        },
      },
    });
    expect(calls).toEqual([['id', 'v']]);
    expect(result).toMatchObject({ rows: 4, format: null });
    expect((await contents(dbs.dest, 'public.own')).count).toBe(4);
  });

  it('copies the columns both sides have and says which it leaves out', async () => {
    await dbs.source.query(
      'create table public.cols (id int primary key, a text, only_source int, b int)',
    );
    await dbs.dest.query(
      `create table public.cols (b int, id int primary key, only_dest text default 'd', a text,
         twice int generated always as (b * 2) stored)`,
    );
    await dbs.source.query(
      `insert into public.cols select i, 'a' || i, i, i from generate_series(1, 50) i`,
    );
    const log = memoryLog();
    const result = await runCopy(dbs, 'public.cols', { log });
    expect(result.columns).toEqual(['id', 'a', 'b']);
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual([
      'copy of public.cols: columns not copied: only_source (not on the destination), only_dest (not on the source)',
    ]);
    expect(await contents(dbs.dest, 'public.cols', 'id, a, b, only_dest, twice')).toEqual(
      await contents(dbs.source, 'public.cols', `id, a, b, 'd' as only_dest, b * 2 as twice`),
    );
  });

  it('refuses in one line when a key column is missing, and changes nothing', async () => {
    await dbs.source.query('create table public.nokey (a int, b int, v text, primary key (a, b))');
    await dbs.dest.query('create table public.nokey (a int primary key, v text)');
    await dbs.source.query('insert into public.nokey values (1, 1, null)');
    await dbs.dest.query(`insert into public.nokey values (7, 'kept')`);
    await expect(runCopy(dbs, 'public.nokey')).rejects.toThrow(
      /^copy of public\.nokey: key column missing: b \(destination\)$/,
    );
    expect((await dbs.dest.query('select * from public.nokey')).rows).toEqual([
      { a: 7, v: 'kept' },
    ]);
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
  });

  it('names the table that does not exist on either side', async () => {
    await expect(runCopy(dbs, 'public.nowhere')).rejects.toThrow(
      'copy: table public.nowhere does not exist on the destination',
    );
    await dbs.dest.query('create table public.dest_only (id int primary key)');
    await expect(runCopy(dbs, 'public.dest_only')).rejects.toThrow(
      'copy: table public.dest_only does not exist on the source',
    );
    expect(await idle(dbs.dest)).toBe(true);
  });

  it('keeps what a foreign key of another table needs, and truncates only with that key gone', async () => {
    await onBoth(
      dbs,
      `create table public.parent (id int primary key, code text unique, v int);
       create index parent_v on public.parent (v);
       create table public.child (id int primary key, parent int references public.parent (id));`,
    );
    await dbs.source.query(
      `insert into public.parent select i, 'c' || i, i from generate_series(1, 100) i`,
    );
    const before = await definitions(dbs.dest, 'public.parent');
    // TRUNCATE of a referenced table fails: the worker drops such keys first (spec §6.8).
    await expect(runCopy(dbs, 'public.parent')).rejects.toThrow(
      /^copy of public\.parent: cannot truncate a table referenced in a foreign key constraint$/,
    );
    expect(await definitions(dbs.dest, 'public.parent')).toEqual(before);
    const result = await runCopy(dbs, 'public.parent', { skipTruncate: true });
    expect(result.rows).toBe(100);
    // The primary key stays (the child's key depends on it); the rest was rebuilt.
    expect(result.ddl.join('\n')).not.toContain('parent_pkey');
    expect(result.ddl.join('\n')).toContain('parent_v');
    expect(await definitions(dbs.dest, 'public.parent')).toEqual(before);
    expect(await contents(dbs.dest, 'public.parent')).toEqual(
      await contents(dbs.source, 'public.parent'),
    );
  });

  it('leaves the indexes alone with keepDdl, and hands them over with deferDdl', async () => {
    await onBoth(
      dbs,
      `create table public.merged (id int primary key, v int);
       create index merged_v on public.merged (v);`,
    );
    await dbs.source.query(`insert into public.merged select i, i from generate_series(1, 100) i`);
    const before = await definitions(dbs.dest, 'public.merged');
    const kept = await runCopy(dbs, 'public.merged', { keepDdl: true });
    expect(kept.ddl).toEqual([]);
    const deferred = await runCopy(dbs, 'public.merged', { deferDdl: true });
    // Only NOT NULL is left (a constraint of its own on 18).
    const left = await definitions(dbs.dest, 'public.merged');
    expect(left.filter((def) => !def.endsWith(' NOT NULL id'))).toEqual([]);
    for (const statement of deferred.ddl) await dbs.dest.query(statement);
    expect(await definitions(dbs.dest, 'public.merged')).toEqual(before);
    expect((await contents(dbs.dest, 'public.merged')).count).toBe(100);
  });

  it('throttles to rowsPerSecond, as the progress reports show', async () => {
    await onBoth(dbs, 'create table public.slow (id int primary key, v text)');
    await dbs.source.query(
      `insert into public.slow select i, repeat('x', 20) from generate_series(1, 30000) i`,
    );
    const progress: CopyProgress[] = [];
    const rate = 10_000;
    const result = await runCopy(dbs, 'public.slow', {
      rowsPerSecond: rate,
      onProgress: (p) => progress.push(p),
    });
    expect(result.rows).toBe(30_000);
    // At 10k rows/s the copy reports at least twice before its end (each a second apart),
    // never ahead of the limit by more than one chunk of rows.
    const running = progress.slice(0, -1);
    expect(running.length).toBeGreaterThanOrEqual(2);
    for (const p of running) {
      expect(p.rows).toBeLessThan(30_000);
      expect(p.rate).toBeLessThan(rate * 1.5);
      expect(p.etaSeconds).not.toBeNull();
    }
  });
});

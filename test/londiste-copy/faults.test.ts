/**
 * A copy that stops part way (an abort, a killed destination or source backend) leaves the
 * destination table as it was, rows and indexes, and both sessions that survive idle and
 * usable. The copies run throttled, so "part way" is a progress report, not a moment in time.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { SkytoolsError } from '../../src/errors.js';
import type { CopyProgress } from '../../src/londiste/copy/copy-table.js';
import { useTestDatabase } from '../harness/database.js';
import {
  type CopyDatabases,
  contents,
  definitions,
  idle,
  runCopy,
  useCopyDatabases,
} from './helpers.js';

const test = useTestDatabase();
const dbs = useCopyDatabases(test);
const stress = process.env.SKYTOOLS_STRESS === '1';
const rows = stress ? 1_000_000 : 100_000;
// Enough bytes that the source is still sending when a backend is killed after the first
// progress report (socket buffers hold a few MB that a finished server has already sent).
const pad = stress ? 20 : 200;

let serial = 0;

/** A fresh table `public.fault_N` with indexes on both sides, rows on the source, a few old rows here. */
async function faultTable(size = rows): Promise<{ table: string; before: string[]; old: unknown }> {
  serial++;
  const table = `public.fault_${serial}`;
  const ddl = `create table ${table} (id int primary key, v int, t text unique, pad text);
               create index fault_${serial}_v on ${table} (v);`;
  await dbs.source.query(ddl);
  await dbs.dest.query(ddl);
  await dbs.source.query(
    `insert into ${table} select i, i % 100, 'row ' || i, repeat('p', $2::int) from generate_series(1, $1::int) i`,
    [size, pad],
  );
  await dbs.dest.query(`insert into ${table} values (-1, 1, 'old'), (-2, 2, 'older')`);
  return {
    table,
    before: await definitions(dbs.dest, table),
    old: await contents(dbs.dest, table),
  };
}

/** The copy's progress: resolves on the first report that shows rows moved. */
function firstRows(): { onProgress(p: CopyProgress): void; moved: Promise<void> } {
  let resolve!: () => void;
  const moved = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    onProgress: (p) => {
      if (p.rows > 0) resolve();
    },
    moved,
  };
}

async function unchanged(admin: pg.ClientBase, table: string, before: string[], old: unknown) {
  expect(await definitions(admin, table)).toEqual(before);
  expect(await contents(admin, table)).toEqual(old);
  // No lock left behind.
  await admin.query('begin');
  await admin.query(`lock table ${table} in access exclusive mode nowait`);
  await admin.query('rollback');
}

async function backendPid(client: pg.ClientBase): Promise<number> {
  const { rows: found } = await client.query('select pg_backend_pid() as pid');
  return found[0].pid as number;
}

describe('copyTable stopped part way', { timeout: stress ? 600_000 : 60_000 }, () => {
  it('aborts cleanly on the AbortSignal: both rolled back, the error names the table', async () => {
    const { table, before, old } = await faultTable();
    const controller = new AbortController();
    const progress = firstRows();
    const copy = runCopy(dbs, table, {
      rowsPerSecond: rows / 5,
      signal: controller.signal,
      onProgress: progress.onProgress,
    });
    await progress.moved;
    controller.abort();
    const error = await copy.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SkytoolsError);
    expect((error as SkytoolsError).code).toBe('STOPPED');
    expect((error as Error).message).toBe(`copy of ${table} aborted`);
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
    await unchanged(dbs.destAdmin, table, before, old);
    // The sessions copy again afterwards.
    const again = await runCopy(dbs, table);
    expect(again.rows).toBe(rows);
  });

  it('stops at once on a signal aborted before the start', async () => {
    const { table, before, old } = await faultTable(1000);
    await expect(runCopy(dbs, table, { signal: AbortSignal.abort() })).rejects.toThrow(
      `copy of ${table} aborted`,
    );
    await unchanged(dbs.destAdmin, table, before, old);
  });

  it('leaves the table as it was when the destination backend is killed mid-stream', async () => {
    const { table, before, old } = await faultTable();
    const dest = await test.connect(dbs.destConfig);
    const victim = await backendPid(dest);
    const progress = firstRows();
    const copy = runCopy({ ...dbs, dest } satisfies CopyDatabases, table, {
      rowsPerSecond: rows / 5,
      onProgress: progress.onProgress,
    });
    await progress.moved;
    await dbs.destAdmin.query('select pg_terminate_backend($1)', [victim]);
    await expect(copy).rejects.toThrow(new RegExp(`^copy of ${table}: `));
    expect(await idle(dbs.source)).toBe(true);
    await unchanged(dbs.destAdmin, table, before, old);
  });

  it('leaves the table as it was when the source backend is killed mid-stream', async () => {
    const { table, before, old } = await faultTable();
    const source = await test.connect();
    const victim = await backendPid(source);
    const progress = firstRows();
    const copy = runCopy({ ...dbs, source } satisfies CopyDatabases, table, {
      rowsPerSecond: rows / 5,
      onProgress: progress.onProgress,
    });
    await progress.moved;
    await test.query('select pg_terminate_backend($1)', [victim]);
    await expect(copy).rejects.toThrow(new RegExp(`^copy of ${table}: `));
    expect(await idle(dbs.dest)).toBe(true);
    await unchanged(dbs.destAdmin, table, before, old);
  });

  it('rolls back when the COPY fails on the destination, and the source stays usable', async () => {
    const { table, before, old } = await faultTable();
    // A value the destination refuses, near the end of the stream.
    await dbs.dest.query(
      `alter table ${table} add constraint small_v check (id < $1)`.replace(
        '$1',
        String(rows - 10),
      ),
    );
    const withCheck = await definitions(dbs.dest, table);
    await expect(runCopy(dbs, table)).rejects.toThrow(
      new RegExp(
        `^copy of ${table}: new row for relation "fault_\\d+" violates check constraint "small_v"`,
      ),
    );
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
    expect(withCheck.length).toBe(before.length + 1);
    await unchanged(dbs.destAdmin, table, withCheck, old);
  });

  it('stops while it waits for the destination lock, on the AbortSignal', async () => {
    const { table, before, old } = await faultTable(1000);
    await dbs.destAdmin.query('begin');
    await dbs.destAdmin.query(`lock table ${table} in access share mode`);
    const controller = new AbortController();
    const copy = runCopy(dbs, table, { signal: controller.signal });
    // Wait until the copy's LOCK waits behind ours.
    for (;;) {
      const { rows: waiting } = await test.query(
        `select count(*)::int as n from pg_locks where not granted and relation is not null`,
      );
      if (waiting[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    controller.abort();
    await expect(copy).rejects.toThrow(`copy of ${table} aborted`);
    await dbs.destAdmin.query('rollback');
    expect(await idle(dbs.dest)).toBe(true);
    await unchanged(dbs.destAdmin, table, before, old);
  });

  it('rolls everything back when the state change before the commit fails or is aborted', async () => {
    const { table, before, old } = await faultTable(1000);
    await expect(
      runCopy(dbs, table, {
        beforeCommit: async () => {
          throw new SkytoolsError('CASCADE_REFUSED', 'state changed during the copy');
        },
      }),
    ).rejects.toThrow('state changed during the copy');
    await unchanged(dbs.destAdmin, table, before, old);
    const controller = new AbortController();
    await expect(
      runCopy(dbs, table, {
        signal: controller.signal,
        beforeCommit: async () => controller.abort(),
      }),
    ).rejects.toThrow(`copy of ${table} aborted`);
    expect(await idle(dbs.source)).toBe(true);
    expect(await idle(dbs.dest)).toBe(true);
    await unchanged(dbs.destAdmin, table, before, old);
  });
});

import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDataMaintainer } from '../../src/cli/data-maintainer.js';
import { libpq, poll, useJobs } from '../consumers/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { runHere } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();
const conn = () => libpq(db.config());

async function count(sql: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`select (${sql})::int as n`);
  return rows[0]?.n ?? -1;
}

describe('data_maintainer', () => {
  it('deletes the keys of sql_get_pk_list row by row, with before/after statements and their parameters', async () => {
    await db.query(
      'create table dm_sessions (id int primary key, expired bool); create table dm_log (tag text, what text, n int)',
    );
    await db.query('insert into dm_sessions select i, i % 5 <> 0 from generate_series(1, 250) i');
    const config = jobs.writeConfig('dm_basic', 'data_maintainer3', {
      dbread: conn(),
      dbwrite: conn(),
      sql_get_pk_list: 'select id from dm_sessions where expired;',
      sql_modify: 'delete from dm_sessions where id = %%(id)s and expired',
      sql_before_run: "select 'run-' || 1 as tag",
      sql_after_run: "insert into dm_log select %%(tag)s, 'after', count(*) from dm_sessions",
      fetch_count: 30,
    });
    const run = await runHere(runDataMaintainer, [config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/INFO \[job=dm_basic\] \{count: 200, duration: [\d.]+\}/);
    expect(run.stderr).toContain('done: 200 rows');
    expect(await count('select count(*) from dm_sessions')).toBe(50);
    expect(await count('select count(*) from dm_sessions where expired')).toBe(0);
    expect((await db.query('select tag, what, n from dm_log')).rows).toEqual([
      { tag: 'run-1', what: 'after', n: 50 },
    ]);
    // Nothing left: sql_after_run runs for an empty list only with after_zero_rows (default 1).
    const empty = await runHere(runDataMaintainer, [config, '--set', 'after_zero_rows=0']);
    expect(empty.code).toBe(0);
    expect(await count('select count(*) from dm_log')).toBe(1);
  });

  it('reads a CSV file and commits per fetch_count rows when autocommit = 0', async () => {
    await db.query('create table dm_csv (id int, name text, note text)');
    const csv = path.join(jobs.dir, 'keys.csv');
    writeFileSync(
      csv,
      "id;name;note\n1;plain;x\n2;'semi;colon';y\n\n3;'multi\nline';'it''s'\r\n4;;\n",
    );
    const config = jobs.writeConfig('dm_csv', 'data_maintainer', {
      fileread: csv,
      csv_delimiter: ';',
      csv_quotechar: "'",
      dbwrite: conn(),
      sql_modify: 'insert into dm_csv values (%%(id)s, %%(name)s, %%(note)s)',
      autocommit: 0,
      fetch_count: 3,
    });
    const run = await runHere(runDataMaintainer, [config]);
    expect(run.code, run.stderr).toBe(0);
    expect((await db.query('select * from dm_csv order by id')).rows).toEqual([
      { id: 1, name: 'plain', note: 'x' },
      { id: 2, name: 'semi;colon', note: 'y' },
      { id: 3, name: 'multi\nline', note: "it's" },
      { id: 4, name: '', note: '' },
    ]);
    writeFileSync(csv, 'id;name;note\n5;a\n');
    const bad = await runHere(runDataMaintainer, [config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `${csv}:2: 2 fields, but the header line names 3 (id, name, note)`,
    );
  });

  it('pauses while sql_throttle says so; killed with -9 it resumes from position_file', async () => {
    await db.query(`create table dm_keys (id int primary key);
      insert into dm_keys select generate_series(1, 300);
      create table dm_done (id int, at timestamptz default clock_timestamp());
      create table dm_ctl (paused bool, asked int);
      insert into dm_ctl values (true, 0);
      create function dm_throttle() returns numeric language sql as
        'update dm_ctl set asked = asked + 1 returning case when paused then 0.05 else 0 end'`);
    const position = path.join(jobs.dir, 'dm_kill.pos');
    const config = jobs.writeConfig('dm_kill', 'data_maintainer', {
      dbread: conn(),
      dbwrite: conn(),
      sql_get_pk_list: 'select id from dm_keys',
      sql_modify: 'insert into dm_done (id) values (%%(id)s)',
      sql_throttle: 'select dm_throttle()',
      autocommit: 0,
      fetch_count: 10,
      commit_delay: 0.02,
      position_file: position,
    });
    const first = jobs.start('data_maintainer', [config]);
    await poll(
      () => count('select asked from dm_ctl'),
      (n) => n >= 3,
    );
    expect(await count('select count(*) from dm_done')).toBe(0);
    await db.query('update dm_ctl set paused = false');
    await poll(
      () => count('select count(*) from dm_done'),
      (n) => n >= 50,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const done = await count('select count(*) from dm_done');
    expect(done).toBeLessThan(300);
    expect(existsSync(position)).toBe(true);
    const second = await runHere(runDataMaintainer, [config]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resuming after \d+ rows done/);
    // Every key done; at most the chunk in flight at the kill done twice.
    expect(await count('select count(distinct id) from dm_done')).toBe(300);
    expect(await count('select count(*) from dm_done')).toBeLessThanOrEqual(310);
    expect(existsSync(position)).toBe(false);
  });

  it('a failing sql_modify runs sql_on_crash and ends a single run with exit 1, naming the key', async () => {
    await db.query(`create table dm_fail (id int); insert into dm_fail select generate_series(1, 20);
      create table dm_crash (at text)`);
    const config = jobs.writeConfig('dm_fail', 'data_maintainer', {
      dbread: conn(),
      dbwrite: conn(),
      sql_get_pk_list: 'select id from dm_fail order by id',
      sql_modify: 'select 1 / (%%(id)s::int - 13)',
      sql_on_crash: "insert into dm_crash values ('crashed')",
    });
    const run = await runHere(runDataMaintainer, [config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /ERROR \[job=dm_fail\] Job dm_fail crashed: sql_modify for key \(13\): division by zero/,
    );
    expect(await count('select count(*) from dm_crash')).toBe(1);
  });
});

describe('data_maintainer bad input', () => {
  it('malformed INI, no key list, two key lists, unreachable dbwrite: one clear line, exit 1', async () => {
    const broken = path.join(jobs.dir, 'broken_dm.ini');
    writeFileSync(broken, '[data_maintainer]\nsql_modify = select 1\nno equals here\n');
    const malformed = await runHere(runDataMaintainer, [broken]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toBe(
      `data_maintainer: error: ${broken}:3: cannot parse line: no equals here\n`,
    );
    const none = jobs.writeConfig('dm_none', 'data_maintainer', {
      dbwrite: conn(),
      sql_modify: 'select 1',
    });
    const noList = await runHere(runDataMaintainer, [none]);
    expect(noList.code).toBe(1);
    expect(noList.stderr).toContain(
      'missing the key list: sql_get_pk_list (with dbread) or fileread (a CSV file)',
    );
    const both = jobs.writeConfig('dm_both', 'data_maintainer', {
      dbread: conn(),
      dbwrite: conn(),
      sql_modify: 'select 1',
      sql_get_pk_list: 'select 1',
      fileread: 'x.csv',
    });
    expect((await runHere(runDataMaintainer, [both])).stderr).toContain(
      'give either sql_get_pk_list (with dbread) or fileread, not both',
    );
    const unreachable = jobs.writeConfig('dm_unr', 'data_maintainer', {
      dbread: conn(),
      dbwrite: 'host=127.0.0.1 port=1 dbname=nowhere',
      sql_get_pk_list: 'select 1 as id',
      sql_modify: 'select %%(id)s',
    });
    const unr = await runHere(runDataMaintainer, [unreachable]);
    expect(unr.code).toBe(1);
    const errors = unr.stderr.split('\n').filter((line) => / ERROR /.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Job dm_unr crashed: .*dbwrite.*127\.0\.0\.1:1/);
  });
});

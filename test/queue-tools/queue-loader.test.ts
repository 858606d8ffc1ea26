import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runQueueLoader } from '../../src/cli/queue-loader.js';
import { libpq, useJobs } from '../consumers/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, tick } from '../pgq-lib/helpers.js';
import { otherDatabase, runHere, tickUntil } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();

const tables = `
  create table ql_direct (id int primary key, name text);
  create table ql_latest (id int primary key, name text);
  create table ql_all (id int primary key, name text);
  create table ql_bulk (id int primary key, name text);
  create table ql_split (id int primary key, created timestamp, name text);
  create table ql_ignored (id int primary key);`;

function iniFile(name: string, keys: string): string {
  const file = path.join(jobs.dir, `${name}.ini`);
  writeFileSync(file, keys);
  return file;
}

describe('queue_loader', () => {
  it('loads row events by table mode, row mode and split mode; killed and restarted, each event once', async () => {
    const dst = await otherDatabase(db, 'ql_dst');
    await makeQueue(db, 'ql_q');
    await db.query(tables);
    for (const t of ['ql_direct', 'ql_latest', 'ql_all', 'ql_bulk', 'ql_split', 'ql_ignored']) {
      await db.query(
        `create trigger ql after insert or update or delete on ${t} for each row execute function pgq.logutriga('ql_q')`,
      );
    }
    await dst.query(tables.replace('ql_all (id int primary key,', 'ql_all (id int,'));
    const config = iniFile(
      'ql_job',
      `[queue_loader]
src_db = ${libpq(db.config())}
db = ${dst.libpq}
queue_name = ql_q
loop_delay = 0.1
exception_sleep = 0.3

[DEFAULT]
table_mode = ignore

[table public.ql_direct]
table_mode = direct

[table ql_latest]
table_mode = direct
row_mode = keep_latest

[table public.ql_all]
table_mode = direct
row_mode = keep_all

[table public.ql_bulk]
table_mode = direct
row_mode = bulk

[table public.ql_split]
table_mode = split
split_mode = by-date-field:created
split_part = %(table_name)s_%(year)s_%(month)s
`,
    );
    const reg = await runHere(runQueueLoader, [config, '--register']);
    expect(reg.stdout, reg.stderr).toContain('registered consumer "ql_job" on queue "ql_q"');
    const first = jobs.start('queue_loader', [config]);
    await first.waitFor(/starting: consumer ql_job on queue ql_q/);
    for (const t of ['ql_direct', 'ql_latest', 'ql_all', 'ql_bulk']) {
      await db.query(`insert into ${t} values (1, 'one'), (2, 'two'), (3, 'three')`);
      await db.query(`update ${t} set name = name || '!' where id = 2`);
      await db.query(`delete from ${t} where id = 3`);
    }
    await db.query(`insert into ql_split values (1, '2026-11-30 23:59', 'nov'),
      (2, '2026-12-01 00:00', 'dec'), (3, '2026-12-24 12:00', 'xmas')`);
    await db.query("update ql_split set name = 'december' where id = 2");
    await db.query('insert into ql_ignored values (1)');
    await tickUntil(db, 'ql_q', async () => {
      const { rows } = await dst.query<{ n: number }>('select count(*)::int as n from ql_direct');
      return rows[0]?.n === 2;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    // More changes while the loader is down, then a restart.
    await db.query("update ql_direct set name = 'uno' where id = 1");
    await db.query(
      "insert into ql_bulk values (4, 'four'); update ql_bulk set name = 'cuatro' where id = 4",
    );
    await tick(db, 'ql_q');
    const second = jobs.start('queue_loader', [config]);
    await tickUntil(db, 'ql_q', async () => {
      const { rows } = await dst.query('select name from ql_direct where id = 1');
      return rows[0]?.name === 'uno';
    });
    second.signal('SIGINT');
    expect(await second.exited).toBe(0);
    const rows = async (sql: string) => (await dst.query(sql)).rows;
    expect(await rows('select * from ql_direct order by id')).toEqual([
      { id: 1, name: 'uno' },
      { id: 2, name: 'two!' },
    ]);
    expect(await rows('select * from ql_latest order by id')).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two!' },
      { id: 3, name: 'three' },
    ]);
    expect(await rows('select * from ql_all order by id, name')).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
      { id: 2, name: 'two!' },
      { id: 3, name: 'three' },
    ]);
    expect(await rows('select * from ql_bulk order by id')).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two!' },
      { id: 4, name: 'cuatro' },
    ]);
    expect(await rows('select count(*)::int as n from only ql_split')).toEqual([{ n: 0 }]);
    expect(await rows('select id, name from ql_split_2026_11 order by id')).toEqual([
      { id: 1, name: 'nov' },
    ]);
    expect(await rows('select id, name from ql_split_2026_12 order by id')).toEqual([
      { id: 2, name: 'december' },
      { id: 3, name: 'xmas' },
    ]);
    expect(await rows('select count(*)::int as n from ql_ignored')).toEqual([{ n: 0 }]);
    // The ignored table's event is counted in the stats line of the batch that had it.
    expect([...first.lines, ...second.lines].join('\n')).toMatch(
      /\{count: \d+, ignored: 1, duration/,
    );
  });

  it('a table missing in the target stops the job naming event and table; bad modes are refused', async () => {
    const dst = await otherDatabase(db, 'qlm_dst');
    await makeQueue(db, 'qlm_q');
    await db.query('create table qlm_t (id int primary key, v text)');
    await db.query(
      "create trigger qlm after insert on qlm_t for each row execute function pgq.logutriga('qlm_q')",
    );
    const keys = `[queue_loader]
src_db = ${libpq(db.config())}
dst_db = ${dst.libpq}
queue_name = qlm_q
loop_delay = 0.1
table_mode = direct
`;
    const config = iniFile('qlm_job', keys);
    expect((await runHere(runQueueLoader, [config, '--register'])).code).toBe(0);
    const proc = jobs.start('queue_loader', [config]);
    await db.query("insert into qlm_t values (1, 'a')");
    await tick(db, 'qlm_q');
    expect(await proc.exited).toBe(1);
    expect(proc.lines.join('\n')).toMatch(
      /Job qlm_job stopped: loading event \d+ \(I:id\) into public\.qlm_t: relation "public\.qlm_t" does not exist/,
    );
    const badRow = iniFile('qlm_bad', `${keys}\n[table public.qlm_t]\nrow_mode = newest\n`);
    const bad = await runHere(runQueueLoader, [badRow]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      '[table public.qlm_t] row_mode must be plain, keep_latest, keep_all or bulk, not "newest"',
    );
    const badSplit = iniFile('qlm_split', `${keys}split_mode = by-week\n`);
    expect((await runHere(runQueueLoader, [badSplit])).stderr).toContain(
      'split_mode must be by-batch-time, by-event-time or by-date-field:FIELD, not "by-week"',
    );
  });
});

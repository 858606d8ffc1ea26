import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDataMaintainer } from '../../src/cli/data-maintainer.js';
import { runQueueLoader } from '../../src/cli/queue-loader.js';
import { runQueueMover } from '../../src/cli/queue-mover.js';
import { runQueueSplitter } from '../../src/cli/queue-splitter.js';
import { libpq, poll, useJobs } from '../consumers/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { killDaemons } from '../harness/tool-processes.js';
import { otherDatabase, queueEvents, runHere, tickUntil } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();
// The -d jobs are not children of this process: killed after the file if still there.
afterAll(() => killDaemons(jobs.dir));
const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/queue-tools.md'), 'utf8');

function block(lang: string, index: number): string {
  const blocks = [...doc.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))];
  const found = blocks[index]?.[1];
  if (found === undefined) throw new Error(`docs/queue-tools.md has no ${lang} block ${index}`);
  return found;
}

/** The `name.ini` file the page shows, written into the jobs' directory. */
function iniFile(name: string): string {
  const match = new RegExp(
    `\`${name}\`(?:(?!\`\`\`)[\\s\\S])*?:\\n\\n\`\`\`ini\\n([\\s\\S]*?)\`\`\``,
  ).exec(doc);
  if (!match) throw new Error(`docs/queue-tools.md shows no ${name}`);
  const file = path.join(jobs.dir, name);
  writeFileSync(file, match[1] as string);
  return file;
}

describe('docs/queue-tools.md', () => {
  it('the example runs as written', async () => {
    await db.query(block('sql', 0));
    const archive = await otherDatabase(db, 'archive');
    await archive.query(block('sql', 1));
    const shop = libpq(db.config());
    const set = (...pairs: string[]) => pairs.flatMap((pair) => ['--set', pair]);
    const mover = [
      iniFile('orders_archive.ini'),
      ...set(`src_db=${shop}`, `dst_db=${archive.libpq}`),
    ];
    const splitter = [
      iniFile('notify_split.ini'),
      ...set(`src_db=${shop}`, `dst_db=${archive.libpq}`),
    ];
    const loader = [iniFile('orders_load.ini'), ...set(`src_db=${shop}`, `db=${archive.libpq}`)];
    const maintainer = [
      iniFile('expire_sessions.ini'),
      ...set(`dbread=${shop}`, `dbwrite=${shop}`),
    ];
    // The commands of the sh block, in its order (the one-shot ones in this process).
    const commands = block('sh', 0)
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+#/)[0]?.trim());
    expect(commands).toEqual([
      'queue_mover orders_archive.ini --register',
      'queue_splitter notify_split.ini --register',
      'queue_loader orders_load.ini --register',
      'queue_mover -d orders_archive.ini',
      'queue_splitter -d notify_split.ini',
      'queue_loader -d orders_load.ini',
      'data_maintainer expire_sessions.ini',
    ]);
    expect((await runHere(runQueueMover, [...mover, '--register'])).code).toBe(0);
    expect((await runHere(runQueueSplitter, [...splitter, '--register'])).code).toBe(0);
    expect((await runHere(runQueueLoader, [...loader, '--register'])).code).toBe(0);
    const started = await Promise.all([
      runHere(runQueueMover, ['-d', ...mover]),
      runHere(runQueueSplitter, ['-d', ...splitter]),
      runHere(runQueueLoader, ['-d', ...loader]),
    ]);
    expect(started.map((run) => run.code)).toEqual([0, 0, 0]);
    await db.query(`insert into orders values (1, 'new', '2026-11-30 10:00'), (2, 'new', '2026-12-01 09:00');
      update orders set status = 'paid' where id = 1;
      delete from orders where id = 2;
      select pgq.insert_event('notifications', 'welcome', 'user=7', 'mail', null, null, null);
      select pgq.insert_event('notifications', 'code', 'user=7', 'sms', null, null, null);
      insert into sessions select i, now() + (i - 5) * interval '1 hour' from generate_series(1, 10) i`);
    const count = async (sql: string) =>
      (await archive.query<{ n: number }>(`select (${sql})::int as n`)).rows[0]?.n;
    // Seven events in orders: four of orders_to_queue (I, I, U, D), three of orders_history.
    await tickUntil(db, 'orders', async () => {
      const paid = await count("select count(*) from orders where status = 'paid'");
      const moved = (await queueEvents(archive, 'orders_archive')).length;
      // The partitions are tables of their own (like the parent, not inheriting from it).
      const parts = await count(
        "select count(*) from pg_tables where tablename in ('order_history_2026_11', 'order_history_2026_12')",
      );
      const hist =
        parts === 2
          ? await count(
              'select (select count(*) from order_history_2026_11) + (select count(*) from order_history_2026_12)',
            )
          : 0;
      return paid === 1 && moved === 7 && hist === 3;
    });
    await tickUntil(
      db,
      'notifications',
      async () => (await queueEvents(archive, 'sms')).length === 1,
    );
    expect((await archive.query('select * from orders')).rows).toEqual([
      { id: 1, status: 'paid', created: expect.any(Date) },
    ]);
    expect(
      (await archive.query('select id, status from order_history_2026_11 order by status')).rows,
    ).toEqual([
      { id: 1, status: 'new' },
      { id: 1, status: 'paid' },
    ]);
    expect((await archive.query('select id, status from order_history_2026_12')).rows).toEqual([
      { id: 2, status: 'new' },
    ]);
    expect((await queueEvents(archive, 'mail')).map((e) => [e.ev_type, e.ev_data])).toEqual([
      ['welcome', 'user=7'],
    ]);
    const dm = await runHere(runDataMaintainer, maintainer);
    expect(dm.code, dm.stderr).toBe(0);
    expect((await db.query('select count(*)::int as n from sessions')).rows).toEqual([{ n: 5 }]);
    expect((await runHere(runQueueMover, ['-s', ...mover])).code).toBe(0);
    expect((await runHere(runQueueSplitter, ['-s', ...splitter])).code).toBe(0);
    expect((await runHere(runQueueLoader, ['-s', ...loader])).code).toBe(0);
    await poll(
      async () => ['orders_archive', 'notify_split', 'orders_load'].map((job) => readLog(job)),
      (logs) => logs.every((text) => text.includes(' stopped')),
    );
  });
});

function readLog(job: string): string {
  try {
    return readFileSync(path.join(jobs.dir, `${job}.log`), 'utf8');
  } catch {
    return '';
  }
}

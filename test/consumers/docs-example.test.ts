import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { libpq, poll, useJobs } from './helpers.js';

const db = useTestDatabase();
const jobs = useJobs();
const doc = readFileSync(
  path.resolve(import.meta.dirname, '../../docs/simple-consumer.md'),
  'utf8',
);

function block(lang: string, index: number): string {
  const blocks = [...doc.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))];
  const found = blocks[index]?.[1];
  if (found === undefined) throw new Error(`docs/simple-consumer.md has no ${lang} block ${index}`);
  return found;
}

describe('docs/simple-consumer.md', () => {
  it('the example runs as written', async () => {
    await db.query(block('sql', 0));
    const reports = await db.createDatabase('reports');
    const dst = new pg.Client(db.config({ database: reports }));
    await dst.connect();
    try {
      await dst.query(block('sql', 1));
      const config = path.join(jobs.dir, 'orders_log.ini');
      writeFileSync(config, block('ini', 0));
      const set = [
        '--set',
        `src_db=${libpq(db.config())}`,
        '--set',
        `dst_db=${libpq(db.config({ database: reports }))}`,
      ];
      expect((await jobs.run('simple_consumer', [config, ...set, '--register'])).code).toBe(0);
      expect((await jobs.run('simple_consumer', ['-d', config, ...set])).code).toBe(0);
      await db.query("insert into orders values (1, 'new'), (2, 'new')");
      await db.query("update orders set status = 'paid' where id = 1");
      await db.query('delete from orders where id = 2');
      const ticker = await db.connect();
      const logged = await poll(
        async () => {
          await ticker.query("select pgq.force_tick('orders')");
          await ticker.query("select pgq.ticker('orders')");
          return (await dst.query('select order_id, status from order_log order by ev_id')).rows;
        },
        (rows) => rows.length >= 4,
      );
      expect(logged).toEqual([
        { order_id: 1, status: 'new' },
        { order_id: 2, status: 'new' },
        { order_id: 1, status: 'paid' },
        { order_id: 2, status: 'new' },
      ]);
      expect((await jobs.run('simple_consumer', ['-s', config])).code).toBe(0);
      const log = path.join(jobs.dir, 'orders_log.log');
      await poll(
        async () => readFileSync(log, 'utf8'),
        (text) => text.includes('simple_consumer stopped'),
      );
      expect(readFileSync(log, 'utf8')).toMatch(
        /INFO \[queue=orders consumer=orders_log job=orders_log\] \{count: \d+, duration: /,
      );
    } finally {
      await dst.end();
    }
  });
});

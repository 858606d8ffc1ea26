/**
 * A quick figure for the apply path (not part of the suite; the bench has the real
 * workloads): N single-row insert transactions, then N single-row updates, on a source table
 * with the queue's logutriga; each set of events read back as one batch and applied with the
 * default handler into a copy. Prints events/s and the client's CPU µs per event.
 *
 *   npx tsx test/londiste-apply/measure-apply.ts postgresql://postgres@127.0.0.1:PORT/postgres [N]
 */
import pg from 'pg';
import { installSchemas } from '../../src/db/installer.js';
import { BatchApplier } from '../../src/londiste/apply/batch-applier.js';
import type { ApplyContext } from '../../src/londiste/handler.js';
import { createTableHandler } from '../../src/londiste/handlers/registry.js';
import { BatchRetries } from '../../src/pgq/batch-retries.js';
import { Event, eventColumns, rawTypes } from '../../src/pgq/event.js';
import { silentLogger } from '../../src/pgq/logger.js';

const [url = '', countText = '200000'] = process.argv.slice(2);
const count = Number(countText);
const dbName = `apply_measure_${process.pid}`;

async function main() {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${dbName}`;
  const db = new pg.Client({ connectionString: target.href });
  await db.connect();
  try {
    await installSchemas(db, ['pgq']);
    await db.query("select pgq.create_queue('q')");
    await db.query("select pgq.register_consumer('q', 'c')");
    const columns = 'id int primary key, name text, amount numeric, at timestamptz, flag bool';
    await db.query(`create table src (${columns})`);
    await db.query(`create table dst (${columns})`);
    await db.query(
      "create trigger t after insert or update or delete on src for each row execute function pgq.logutriga('q')",
    );
    await measure(db, 'insert', 'insert into src values ($1, $2, $3, now(), true)', (i) => [
      i,
      `name ${i}`,
      i * 1.25,
    ]);
    await measure(db, 'update', 'update src set name = $2, amount = $3 where id = $1', (i) => [
      i,
      `renamed ${i}`,
      i * 2.5,
    ]);
    const diff = await db.query(
      'select count(*) as n from (select * from src except select * from dst) d',
    );
    console.log(`rows differing after both runs: ${diff.rows[0].n}`);
  } finally {
    await db.end();
    const cleanup = new pg.Client({ connectionString: url });
    await cleanup.connect();
    await cleanup.query(`drop database ${dbName}`);
    await cleanup.end();
  }
}

async function measure(
  db: pg.Client,
  label: string,
  sql: string,
  values: (i: number) => unknown[],
): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await db.query({ name: `load_${label}`, text: sql, values: values(i) });
  }
  await db.query("select pgq.force_tick('q')");
  await db.query("select pgq.ticker('q')");
  const batchId = (await db.query("select pgq.next_batch('q', 'c') as id")).rows[0].id as number;
  const retries = new BatchRetries(batchId, { queue: 'q', consumer: 'c' });
  await db.query('begin');
  // Reading alone first, to tell the fetch's share of the client's CPU from the apply's.
  await db.query(
    `declare cur no scroll cursor for select ${eventColumns} from pgq.get_batch_events($1)`,
    [batchId],
  );
  const readCpu = process.cpuUsage();
  let read = 0;
  for (;;) {
    const block = await db.query({
      text: 'fetch 5000 from cur',
      rowMode: 'array',
      types: rawTypes,
    } as pg.QueryConfig);
    if (block.rows.length === 0) break;
    for (const row of block.rows) if (new Event(row as (string | null)[], retries).type) read++;
  }
  const readUsed = process.cpuUsage(readCpu);
  await db.query('close cur');
  await db.query(
    `declare cur no scroll cursor for select ${eventColumns} from pgq.get_batch_events($1)`,
    [batchId],
  );
  const handler = createTableHandler(
    { name: 'londiste', args: {} },
    { tableName: 'public.src', destTable: 'public.dst' },
  );
  const applier = new BatchApplier({ handlerFor: () => handler });
  const ctx: ApplyContext = {
    client: db,
    queue: 'q',
    batchId,
    tick: '0',
    log: silentLogger,
  };
  await db.query("set local session_replication_role = 'replica'");
  const started = performance.now();
  const cpu = process.cpuUsage();
  let events = 0;
  for (;;) {
    const block = await db.query({
      text: 'fetch 5000 from cur',
      rowMode: 'array',
      types: rawTypes,
    } as pg.QueryConfig);
    if (block.rows.length === 0) break;
    for (const row of block.rows) {
      const wait = applier.processEvent(ctx, new Event(row as (string | null)[], retries));
      if (wait) await wait;
      events++;
    }
  }
  await applier.finishAll(ctx);
  await db.query('close cur');
  await db.query('select pgq.finish_batch($1)', [batchId]);
  await db.query('commit');
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuMicros = (used.user + used.system) / events;
  const readMicros = (readUsed.user + readUsed.system) / read;
  console.log(
    `${label}: ${events} events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s; client CPU ${cpuMicros.toFixed(1)} µs/event, of which reading the events ${readMicros.toFixed(1)} µs`,
  );
}

await main();

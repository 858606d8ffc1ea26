import pg from 'pg';
import { quoteIdent } from '../../src/db/quote.js';
import { comparePair, type WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { createQueue, queueTables } from '../lib/fixtures.js';
import { summarize, timed } from '../lib/stats.js';

// One-row prepared autocommit statements into a 6-column table with pgq.logutriga against the
// same statements on the same table with its trigger disabled; where upstream's C pgq is
// installed (Debian postgresql-NN-pgq3), the same table and trigger in a database of its own
// with `create extension pgq` (our installer will not share a database with it), in the same
// run, sample for sample.

const queue = 'bench_trigger';
const table = 'bench.trigger_row';
const upstreamDatabase = 'skytools_bench_upstream_pgq';

const tableDdl = `
  create schema if not exists bench;
  drop table if exists ${table};
  create table ${table} (
    id bigint primary key,
    qty integer not null,
    name text not null,
    note text,
    amount numeric(12,2),
    created timestamptz not null default now());
  create trigger bench_logutriga after insert or update or delete on ${table}
    for each row execute function pgq.logutriga(${pgLiteral(queue)});`;

const insertRow: pg.QueryConfig = {
  name: 'bench-trigger-insert',
  text: `insert into ${table} (id, qty, name, note, amount) values ($1, $2, $3, $4, $5)`,
};
const updateRow: pg.QueryConfig = {
  name: 'bench-trigger-update',
  text: `update ${table} set qty = $2, note = $3 where id = $1`,
};

function pgLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** One side of the comparison: a database with the table, its queue and a client. */
interface Side {
  admin: pg.Client;
  client: pg.Client;
  queueTables: string[];
  close(): Promise<void>;
}

async function openSide(connect: () => Promise<pg.Client>): Promise<Side> {
  const admin = await connect();
  const client = await connect();
  try {
    await createQueue(admin, queue);
    await admin.query(tableDdl);
    return {
      admin,
      client,
      queueTables: await queueTables(admin, queue),
      close: async () => {
        await client.end();
        await admin.end();
      },
    };
  } catch (error) {
    await client.end();
    await admin.end();
    throw error;
  }
}

/**
 * Upstream's C triggers in a database of their own, or why they cannot run here. The database
 * is made fresh each run, so an old run's queue or extension version does not count.
 */
async function openUpstream(ctx: BenchContext): Promise<Side | string> {
  const admin = await ctx.connect();
  try {
    const { rows } = await admin.query<{ version: string | null }>(
      "select default_version as version from pg_available_extensions where name = 'pgq'",
    );
    if (rows.length === 0) {
      return 'upstream pgq extension (Debian postgresql-NN-pgq3) not installed for this server';
    }
    await admin.query(`drop database if exists ${quoteIdent(upstreamDatabase)}`);
    await admin.query(`create database ${quoteIdent(upstreamDatabase)}`);
  } catch (error) {
    return `cannot create the upstream database: ${(error as Error).message}`;
  } finally {
    await admin.end();
  }
  const connect = async () => {
    const client = new pg.Client({
      ...ctx.config,
      database: upstreamDatabase,
      application_name: 'skytools-bench',
    });
    client.on('error', (error) => ctx.log(`bench: connection lost: ${error.message}`));
    await client.connect();
    return client;
  };
  const setup = await connect();
  try {
    await setup.query('create extension pgq');
  } finally {
    await setup.end();
  }
  return openSide(connect);
}

type Statement = 'insert' | 'update';

/** Empty the table and the queue; for updates, fill the table again without events. */
async function reset(side: Side, statement: Statement, rows: number): Promise<void> {
  await side.admin.query(`truncate ${[table, ...side.queueTables].join(', ')}`);
  if (statement === 'update') {
    await side.admin.query('begin');
    await side.admin.query('set local session_replication_role = replica');
    await side.admin.query(
      `insert into ${table} (id, qty, name, note, amount)
       select i, i % 100, 'customer-' || i, 'first note of row ' || i, i * 1.25
         from generate_series(1, $1) i`,
      [rows],
    );
    await side.admin.query('commit');
  }
  await side.admin.query(`vacuum analyze ${table}`);
}

async function setTrigger(side: Side, enabled: boolean): Promise<void> {
  await side.admin.query(
    `alter table ${table} ${enabled ? 'enable' : 'disable'} trigger bench_logutriga`,
  );
}

/** Statements per second over `rows` one-row autocommit statements. */
async function run(side: Side, statement: Statement, rows: number, round: number): Promise<number> {
  const seconds = await timed(async () => {
    for (let i = 1; i <= rows; i++) {
      if (statement === 'insert') {
        await side.client.query({
          ...insertRow,
          values: [i, i % 100, `customer-${i}`, `note of row ${i}, round ${round}`, i * 1.25],
        });
      } else {
        await side.client.query({
          ...updateRow,
          values: [i, (i + round) % 100, `note of row ${i}, round ${round}`],
        });
      }
    }
  });
  return rows / seconds;
}

export async function triggerWorkload(
  ctx: BenchContext,
  statement: Statement,
): Promise<WorkloadResult> {
  const rows = ctx.quick ? 3000 : 20000;
  const ours = await openSide(() => ctx.connect());
  const upstream = await openUpstream(ctx);
  const upstreamSamples: number[] = [];
  let round = 0;
  try {
    // Upstream's sample runs right after ours in every round, so both see the same machine.
    const result = await comparePair({
      repeat: ctx.repeat,
      unit: 'statements/s',
      workload: async () => {
        round += 1;
        await reset(ours, statement, rows);
        await setTrigger(ours, true);
        const value = await run(ours, statement, rows, round);
        if (typeof upstream !== 'string') {
          await reset(upstream, statement, rows);
          const up = await run(upstream, statement, rows, round);
          if (round > 1) upstreamSamples.push(up);
          ctx.log(`    upstream C logutriga: ${Math.round(up)} statements/s`);
        }
        return value;
      },
      baseline: async () => {
        round += 1;
        await reset(ours, statement, rows);
        await setTrigger(ours, false);
        return run(ours, statement, rows, round);
      },
      log: ctx.log,
    });
    const extra: WorkloadResult =
      typeof upstream === 'string'
        ? { baseline_missing: upstream }
        : upstreamResult(result, upstreamSamples);
    return { ...result, statements_per_sample: rows, ...extra };
  } finally {
    await ours.close();
    if (typeof upstream !== 'string') await upstream.close();
  }
}

function upstreamResult(result: WorkloadResult, samples: number[]): WorkloadResult {
  const median = summarize(samples).median;
  const value = Number(result.value);
  const baseline = Number(result.baseline);
  return {
    upstream: Math.round(median),
    upstream_ratio: Math.round((median / baseline) * 1000) / 1000,
    ratio_vs_upstream: Math.round((value / median) * 1000) / 1000,
  };
}

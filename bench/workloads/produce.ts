import type pg from 'pg';
import { comparePair, type WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import {
  createPlainEventTable,
  createQueue,
  emptyTables,
  payload,
  queueTables,
} from '../lib/fixtures.js';
import { timed } from '../lib/stats.js';

// Producing events against writing the same rows into a plain table of the event shape
// (bench/sql/plain-event.sql). Statements are prepared on both sides, one round trip each.

const queue = 'bench_produce';
const eventType = 'order.created';

const insertEvent: pg.QueryConfig = {
  name: 'bench-insert-event',
  text: 'select pgq.insert_event($1, $2, $3)',
};
const insertPlain: pg.QueryConfig = {
  name: 'bench-insert-plain',
  text: 'insert into bench.plain_event (ev_type, ev_data) values ($1, $2) returning ev_id',
};

async function setup(ctx: BenchContext): Promise<{ admin: pg.Client; reset: () => Promise<void> }> {
  const admin = await ctx.connect();
  await createQueue(admin, queue);
  await createPlainEventTable(admin);
  const tables = await queueTables(admin, queue);
  return { admin, reset: () => emptyTables(admin, tables) };
}

/** Rate of `count` single-event transactions spread over `clients` connections. */
async function singleTransactions(
  clients: pg.Client[],
  count: number,
  statement: pg.QueryConfig,
  ours: boolean,
): Promise<number> {
  const perClient = Math.floor(count / clients.length);
  const seconds = await timed(async () => {
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < perClient; i++) {
          const n = c * perClient + i;
          const values = ours ? [queue, eventType, payload(n)] : [eventType, payload(n)];
          await client.query({ ...statement, values });
        }
      }),
    );
  });
  return (perClient * clients.length) / seconds;
}

export async function produceOne(ctx: BenchContext, clientCount: number): Promise<WorkloadResult> {
  const { admin, reset } = await setup(ctx);
  const clients = await Promise.all(Array.from({ length: clientCount }, () => ctx.connect()));
  const count = ctx.quick ? 4000 : 20000;
  try {
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        reset,
        workload: () => singleTransactions(clients, count, insertEvent, true),
        baseline: () => singleTransactions(clients, count, insertPlain, false),
        log: ctx.log,
      })),
      clients: clientCount,
      events_per_sample: count,
    };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    await admin.end();
  }
}

/** Rate of transactions of `perTx` single-row statements each. */
async function manyPerTransaction(
  client: pg.Client,
  transactions: number,
  perTx: number,
  statement: pg.QueryConfig,
  ours: boolean,
): Promise<number> {
  const seconds = await timed(async () => {
    for (let t = 0; t < transactions; t++) {
      await client.query('begin');
      for (let i = 0; i < perTx; i++) {
        const n = t * perTx + i;
        const values = ours ? [queue, eventType, payload(n)] : [eventType, payload(n)];
        await client.query({ ...statement, values });
      }
      await client.query('commit');
    }
  });
  return (transactions * perTx) / seconds;
}

export async function produceHundred(ctx: BenchContext): Promise<WorkloadResult> {
  const { admin, reset } = await setup(ctx);
  const client = await ctx.connect();
  const transactions = ctx.quick ? 40 : 200;
  try {
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        reset,
        workload: () => manyPerTransaction(client, transactions, 100, insertEvent, true),
        baseline: () => manyPerTransaction(client, transactions, 100, insertPlain, false),
        log: ctx.log,
      })),
      events_per_tx: 100,
    };
  } finally {
    await client.end();
    await admin.end();
  }
}

/** pgq.insert_events (ours) with arrays against one multi-row INSERT ... VALUES. */
export async function produceSet(ctx: BenchContext): Promise<WorkloadResult> {
  const { admin, reset } = await setup(ctx);
  const client = await ctx.connect();
  const rowsPerCall = 1000;
  const calls = ctx.quick ? 20 : 100;
  const types = Array.from({ length: rowsPerCall }, () => eventType);
  const datas = Array.from({ length: rowsPerCall }, (_, i) => payload(i));
  const setStatement: pg.QueryConfig = {
    name: 'bench-insert-events',
    text: 'select pgq.insert_events($1, $2::text[], $3::text[])',
    values: [queue, types, datas],
  };
  const tuples = Array.from({ length: rowsPerCall }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`);
  const multiRow: pg.QueryConfig = {
    name: 'bench-insert-multirow',
    text: `insert into bench.plain_event (ev_type, ev_data) values ${tuples.join(', ')} returning ev_id`,
    values: datas.flatMap((data) => [eventType, data]),
  };
  const run = async (statement: pg.QueryConfig) => {
    const seconds = await timed(async () => {
      for (let c = 0; c < calls; c++) await client.query(statement);
    });
    return (calls * rowsPerCall) / seconds;
  };
  try {
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        reset,
        workload: () => run(setStatement),
        baseline: () => run(multiRow),
        log: ctx.log,
      })),
      events_per_call: rowsPerCall,
    };
  } finally {
    await client.end();
    await admin.end();
  }
}

import type pg from 'pg';
import { comparePair, type WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { createPlainEventTable, createQueue, payload } from '../lib/fixtures.js';
import { timed } from '../lib/stats.js';

// Server side of reading a batch: pgq.get_batch_events on an open 10k-event batch against a
// plain SELECT of the same rows from the plain table. Each query counts every column, so both
// sides read every value inside the server while the client decodes one row. Two baselines:
// `get-batch` compares with the same result (the same rows in ev_id order, as
// get_batch_events returns them); `get-batch-unordered` with the rows in any order.

const queue = 'bench_batch';
const consumer = 'bench_reader';
const batchSize = 10000;

const columnsFolded = `${[
  'ev_id',
  'ev_time',
  'ev_txid',
  'ev_retry',
  'ev_type',
  'ev_data',
  'ev_extra1',
  'ev_extra2',
  'ev_extra3',
  'ev_extra4',
]
  .map((column) => `count(${column}) as ${column}`)
  .join(', ')}, count(*) as n`;

/** A queue with one open batch of `batchSize` events, and the same rows in the plain table. */
async function openBatch(admin: pg.Client): Promise<string> {
  await createQueue(admin, queue);
  await createPlainEventTable(admin);
  await admin.query('select pgq.register_consumer($1, $2)', [queue, consumer]);
  // Ten producer transactions, as a busy queue's batch would hold.
  for (let t = 0; t < 10; t++) {
    const datas = Array.from({ length: batchSize / 10 }, (_, i) => payload(t * 1000 + i));
    await admin.query(
      `select pgq.insert_event($1, 'order.created', d, 'extra1', null, null, null)
         from unnest($2::text[]) d`,
      [queue, datas],
    );
  }
  await admin.query('select pgq.force_tick($1)', [queue]);
  await admin.query('select pgq.ticker($1)', [queue]);
  const { rows } = await admin.query<{ id: string | null }>('select pgq.next_batch($1, $2) as id', [
    queue,
    consumer,
  ]);
  const batch = rows[0]?.id;
  if (!batch) throw new Error('bench get-batch: no batch opened');
  await admin.query(
    `insert into bench.plain_event (ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
                                    ev_extra1, ev_extra2, ev_extra3, ev_extra4)
     select ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
            ev_extra1, ev_extra2, ev_extra3, ev_extra4
       from pgq.get_batch_events($1)`,
    [batch],
  );
  // No VACUUM: event tables are never vacuumed (they are truncated), so neither is the
  // baseline; pages without the all-visible bit cost the same visibility checks on both sides.
  await admin.query('analyze bench.plain_event');
  const check = await admin.query<{ n: string }>(
    `select ${columnsFolded} from pgq.get_batch_events($1)`,
    [batch],
  );
  if (Number(check.rows[0]?.n) !== batchSize) {
    throw new Error(
      `bench get-batch: batch holds ${check.rows[0]?.n} events, expected ${batchSize}`,
    );
  }
  return batch;
}

/** pgq.get_batch_events against a plain SELECT, ordered by ev_id or not. */
export async function getBatch(ctx: BenchContext, ordered: boolean): Promise<WorkloadResult> {
  const admin = await ctx.connect();
  const client = await ctx.connect();
  const reads = ctx.quick ? 30 : 100;
  try {
    const batch = await openBatch(admin);
    const ours: pg.QueryConfig = {
      name: 'bench-get-batch',
      text: `select ${columnsFolded} from pgq.get_batch_events($1)`,
      values: [batch],
    };
    const plain: pg.QueryConfig = {
      name: 'bench-select-plain',
      text: `select ${columnsFolded} from (select ev_id, ev_time, ev_txid, ev_retry, ev_type,
               ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 from bench.plain_event
               ${ordered ? 'order by ev_id' : ''}) s`,
    };
    const run = async (statement: pg.QueryConfig) => {
      const seconds = await timed(async () => {
        for (let i = 0; i < reads; i++) await client.query(statement);
      });
      return (reads * batchSize) / seconds;
    };
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        workload: () => run(ours),
        baseline: () => run(plain),
        log: ctx.log,
      })),
      batch_events: batchSize,
      baseline_ordered: ordered ? 1 : 0,
    };
  } finally {
    await client.end();
    await admin.end();
  }
}

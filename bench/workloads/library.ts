import type pg from 'pg';
import { bulkInsertEvents } from '../../src/pgq/bulk-insert.js';
import { Consumer } from '../../src/pgq/consumer.js';
import { comparePair, type WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { createPlainEventTable, createQueue, emptyTables, queueTables } from '../lib/fixtures.js';
import { bulkEvents, plainCopy } from '../lib/plain-copy.js';
import { timed } from '../lib/stats.js';

// The Node library against the same work done with `pg` directly, in the same process, so the
// ratio shows what the library adds on the client and in its statements.

/** bulkInsertEvents in its own transaction / COPY of the same rows into the plain table. */
export async function produceBulk(ctx: BenchContext): Promise<WorkloadResult> {
  const queue = 'bench_bulk';
  const admin = await ctx.connect();
  const client = await ctx.connect();
  const count = ctx.quick ? 100_000 : 1_000_000;
  try {
    await createQueue(admin, queue);
    await createPlainEventTable(admin);
    const tables = await queueTables(admin, queue);
    const rate = (work: () => Promise<unknown>) => async () =>
      count / (await timed(async () => void (await work())));
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        reset: () => emptyTables(admin, tables),
        workload: rate(() => bulkInsertEvents(client, queue, bulkEvents(count), { raw: true })),
        baseline: rate(() => plainCopy(client, count)),
        log: ctx.log,
      })),
      events_per_sample: count,
    };
  } finally {
    await client.end();
    await admin.end();
  }
}

const consumeQueue = 'bench_consume';
const consumeBatch = 10_000;

/**
 * `count` events in transactions of `consumeBatch`, a tick after each, so every batch holds one
 * producer transaction; the plain table gets the same rows. Returns the tick before the first
 * event, where each sample's consumer is registered, and the producer txids.
 */
async function fillConsumeQueue(
  ctx: BenchContext,
  admin: pg.Client,
  count: number,
): Promise<{ startTick: string; txids: string[] }> {
  await createQueue(admin, consumeQueue);
  await createPlainEventTable(admin);
  const producer = await ctx.connect();
  try {
    const { rows } = await admin.query<{ tick: string }>(
      'select max(tick_id)::text as tick from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue where q.queue_name = $1',
      [consumeQueue],
    );
    const startTick = rows[0]?.tick;
    if (!startTick) throw new Error('bench consume: no tick on the queue');
    for (let done = 0; done < count; done += consumeBatch) {
      const n = Math.min(consumeBatch, count - done);
      await bulkInsertEvents(producer, consumeQueue, bulkEvents(n), { raw: true });
      // Not force_tick: it advances the event sequence, so the batch would look larger than a
      // block to the consumer. 10k new events are past ticker_max_count: pgq.ticker ticks.
      const tick = await admin.query<{ id: string | null }>('select pgq.ticker($1) as id', [
        consumeQueue,
      ]);
      if (tick.rows[0]?.id == null) throw new Error('bench consume: pgq.ticker did not tick');
    }
    const tables = await queueTables(admin, consumeQueue);
    for (const table of tables) {
      await admin.query(
        `insert into bench.plain_event (ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type,
                                        ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
         select ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type,
                ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 from ${table}`,
      );
      await admin.query(`vacuum analyze ${table}`);
    }
    await admin.query('vacuum analyze bench.plain_event');
    const txids = await admin.query<{ txid: string }>(
      'select distinct ev_txid::text as txid from bench.plain_event order by 1',
    );
    if (txids.rows.length !== Math.ceil(count / consumeBatch)) {
      throw new Error(
        `bench consume: ${txids.rows.length} producer transactions, expected ${Math.ceil(count / consumeBatch)}`,
      );
    }
    return { startTick, txids: txids.rows.map((row) => row.txid) };
  } finally {
    await producer.end();
  }
}

/** Consumer with a no-op handler over `count` events / plain SELECTs of the same rows. */
export async function consume(ctx: BenchContext): Promise<WorkloadResult> {
  const admin = await ctx.connect();
  const client = await ctx.connect();
  const count = ctx.quick ? 100_000 : 1_000_000;
  let sample = 0;
  try {
    ctx.log(`  producing ${count.toLocaleString('en-US')} events, a tick every ${consumeBatch}`);
    const { startTick, txids } = await fillConsumeQueue(ctx, admin, count);
    // A fresh subscription per sample, registered at the first tick, reads the same batches.
    const ours = async () => {
      const name = `bench_reader_${sample++}`;
      await admin.query('select pgq.register_consumer_at($1, $2, $3)', [
        consumeQueue,
        name,
        startTick,
      ]);
      const consumer = new Consumer({
        connection: ctx.config,
        queue: consumeQueue,
        consumer: name,
        batchMaxEvents: consumeBatch,
      });
      const stop = new AbortController();
      let seen = 0;
      const seconds = await timed(() =>
        consumer.run(
          () => {
            if (++seen === count) stop.abort();
          },
          { signal: stop.signal },
        ),
      );
      await admin.query('select pgq.unregister_consumer($1, $2)', [consumeQueue, name]);
      if (seen !== count) throw new Error(`bench consume: read ${seen} events of ${count}`);
      return count / seconds;
    };
    const select: pg.QueryConfig = {
      name: 'bench-consume-plain',
      text: `select ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
                    ev_extra1, ev_extra2, ev_extra3, ev_extra4
               from bench.plain_event where ev_txid = $1`,
    };
    const plain = async () => {
      let seen = 0;
      const seconds = await timed(async () => {
        for (const txid of txids) {
          const { rows } = await client.query({ ...select, values: [txid] });
          seen += rows.length;
        }
      });
      if (seen !== count) throw new Error(`bench consume: selected ${seen} rows of ${count}`);
      return count / seconds;
    };
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        workload: ours,
        baseline: plain,
        log: ctx.log,
      })),
      events_per_sample: count,
      batch_events: consumeBatch,
    };
  } finally {
    await client.end();
    await admin.end();
  }
}

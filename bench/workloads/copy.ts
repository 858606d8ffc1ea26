import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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

// Bulk load through pgq.current_event_table + COPY against COPY into the plain table: the
// same rows (ev_time, ev_type, ev_data; ev_id and ev_txid from the defaults), the same stream.

const queue = 'bench_copy';

/** COPY text rows of `count` events, in chunks of ~64 kB. */
function* copyRows(count: number): Generator<string> {
  const time = new Date().toISOString();
  let chunk = '';
  for (let i = 0; i < count; i++) {
    chunk += `${time}\torder.created\t${payload(i)}\n`;
    if (chunk.length > 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

async function copyInto(client: pg.Client, table: string, count: number): Promise<void> {
  const stream = client.query(copyFrom(`copy ${table} (ev_time, ev_type, ev_data) from stdin`));
  await pipeline(copyRows(count), stream);
}

export async function produceCopy(ctx: BenchContext): Promise<WorkloadResult> {
  const admin = await ctx.connect();
  const client = await ctx.connect();
  const count = ctx.quick ? 50000 : 200000;
  try {
    await createQueue(admin, queue);
    await createPlainEventTable(admin);
    const tables = await queueTables(admin, queue);
    const ours = async () => {
      const seconds = await timed(async () => {
        await client.query('begin');
        const { rows } = await client.query<{ t: string }>(
          'select pgq.current_event_table($1) as t',
          [queue],
        );
        await copyInto(client, rows[0]?.t ?? '', count);
        await client.query('commit');
      });
      return count / seconds;
    };
    const plain = async () => {
      const seconds = await timed(async () => {
        await client.query('begin');
        await copyInto(client, 'bench.plain_event', count);
        await client.query('commit');
      });
      return count / seconds;
    };
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        reset: () => emptyTables(admin, tables),
        workload: ours,
        baseline: plain,
        log: ctx.log,
      })),
      events_per_sample: count,
    };
  } finally {
    await client.end();
    await admin.end();
  }
}

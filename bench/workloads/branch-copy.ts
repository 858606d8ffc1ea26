import pg from 'pg';
import { CascadedWorker } from '../../src/cascade/cascaded-worker.js';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import { bulkInsertEvents } from '../../src/pgq/bulk-insert.js';
import { comparePair, type WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { createPlainEventTable } from '../lib/fixtures.js';
import { bulkEvents, plainCopy } from '../lib/plain-copy.js';
import { timed } from '../lib/stats.js';

// A CascadedWorker moving a root's events into a branch (a second database on the same
// server), against produce-bulk's baseline: one COPY of the same rows into the plain table
// through the same driver. The root's events are produced and ticked before the samples;
// every sample starts from a fresh branch node at the same tick, so all read the same batches.

const queue = 'bench_cascade';
const perTick = 10_000;
const worker = 'bench_branch_worker';

function location(config: pg.ClientConfig): string {
  return `host=${config.host} port=${config.port} user=${config.user} dbname=${config.database}`;
}

async function ok(db: pg.Client, text: string, values: unknown[]): Promise<void> {
  const { rows } = await db.query(text, values);
  const row = rows[0] as { ret_code: number; ret_note: string } | undefined;
  if (row !== undefined && row.ret_code >= 300) {
    throw new Error(`bench branch-copy: ${text}: ${row.ret_code} ${row.ret_note}`);
  }
}

/** The root node of the cascade on the bench database, its queue filled and ticked. */
async function makeRoot(root: pg.Client, rootConfig: pg.ClientConfig, count: number) {
  await root.query(
    'select pgq_node.drop_node(queue_name, node_name) from pgq_node.node_info where queue_name = $1',
    [queue],
  );
  await root.query('delete from pgq_node.node_location where queue_name = $1', [queue]);
  await root.query('select pgq.drop_queue(queue_name, true) from pgq.queue where queue_name = $1', [
    queue,
  ]);
  await ok(root, 'select * from pgq_node.register_location($1, $2, $3, false)', [
    queue,
    'root',
    location(rootConfig),
  ]);
  await ok(
    root,
    `select * from pgq_node.create_node($1, 'root', 'root', 'root_worker', null, null, null)`,
    [queue],
  );
  const { rows } = await root.query<{ t: string }>(
    'select last_tick_id::text as t from pgq.get_queue_info($1)',
    [queue],
  );
  const startTick = rows[0]?.t as string;
  for (let done = 0; done < count; done += perTick) {
    await bulkInsertEvents(root, queue, bulkEvents(Math.min(perTick, count - done)), { raw: true });
    // 10k new events are past ticker_max_count: pgq.ticker ticks (force_tick would move the
    // event sequence and make the batch look larger than it is).
    const tick = await root.query<{ id: string | null }>('select pgq.ticker($1) as id', [queue]);
    if (tick.rows[0]?.id == null) throw new Error('bench branch-copy: pgq.ticker did not tick');
  }
  const top = await root.query<{ t: string }>(
    'select last_tick_id::text as t from pgq.get_queue_info($1)',
    [queue],
  );
  return { startTick, topTick: top.rows[0]?.t as string };
}

/** A fresh branch node below the root, starting at `startTick`. */
async function makeBranch(
  root: pg.Client,
  branch: pg.Client,
  rootConfig: pg.ClientConfig,
  branchConfig: pg.ClientConfig,
  startTick: string,
) {
  await branch.query(
    'select pgq_node.drop_node(queue_name, node_name) from pgq_node.node_info where queue_name = $1',
    [queue],
  );
  await branch.query('delete from pgq_node.node_location where queue_name = $1', [queue]);
  await root.query('select * from pgq_node.unregister_subscriber($1, $2)', [queue, 'branch']);
  await ok(root, 'select * from pgq_node.register_location($1, $2, $3, false)', [
    queue,
    'branch',
    location(branchConfig),
  ]);
  await ok(root, 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [
    queue,
    'branch',
    worker,
    startTick,
  ]);
  for (const [name, config] of [
    ['root', rootConfig],
    ['branch', branchConfig],
  ] as const) {
    await ok(branch, 'select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      name,
      location(config),
    ]);
  }
  await ok(
    branch,
    `select * from pgq_node.create_node($1, 'branch', 'branch', $2, 'root', $3, null)`,
    [queue, worker, startTick],
  );
}

export async function branchCopy(ctx: BenchContext): Promise<WorkloadResult> {
  const count = ctx.quick ? 50_000 : 200_000;
  const branchDb = `${ctx.config.database}_branch`;
  const root = await ctx.connect();
  await root.query(`drop database if exists ${quoteIdent(branchDb)} with (force)`);
  await root.query(`create database ${quoteIdent(branchDb)}`);
  const branchConfig = { ...ctx.config, database: branchDb };
  const branch = new pg.Client({ ...branchConfig, application_name: 'skytools-bench' });
  branch.on('error', (error) => ctx.log(`bench: connection lost: ${error.message}`));
  await branch.connect();
  try {
    await installSchemas(root, ['pgq', 'pgq_node']);
    await installSchemas(branch, ['pgq', 'pgq_node']);
    await createPlainEventTable(branch);
    ctx.log(
      `  producing ${count.toLocaleString('en-US')} events on the root, a tick every ${perTick}`,
    );
    const { startTick, topTick } = await makeRoot(root, ctx.config, count);
    const ours = async () => {
      const cascade = new CascadedWorker({ connection: branchConfig, queue, loopDelay: 0.01 });
      try {
        const seconds = await timed(async () => {
          while (await cascade.runOnce()) {
            // one provider batch per loop, until none is left
          }
        });
        const { rows } = await branch.query<{ t: string; n: string }>(
          `select (select last_tick_id::text from pgq.get_queue_info($1)) as t,
                  (select count(*)::text from pgq.event_template) as n`,
          [queue],
        );
        if (rows[0]?.t !== topTick || Number(rows[0]?.n) !== count) {
          throw new Error(
            `bench branch-copy: the branch has tick ${rows[0]?.t} and ${rows[0]?.n} events, expected ${topTick} and ${count}`,
          );
        }
        return count / seconds;
      } finally {
        await cascade.close();
      }
    };
    return {
      ...(await comparePair({
        repeat: ctx.repeat,
        unit: 'events/s',
        reset: async () => {
          await makeBranch(root, branch, ctx.config, branchConfig, startTick);
          await branch.query('truncate bench.plain_event');
        },
        workload: ours,
        baseline: async () => count / (await timed(() => plainCopy(branch, count))),
        log: ctx.log,
      })),
      events_per_sample: count,
      events_per_batch: perTick,
    };
  } finally {
    await branch.end();
    await root.query(`drop database if exists ${quoteIdent(branchDb)} with (force)`);
    await root.end();
  }
}

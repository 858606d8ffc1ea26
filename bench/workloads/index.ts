import type { WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { branchCopy } from './branch-copy.js';
import { produceCopy } from './copy.js';
import { getBatch } from './get-batch.js';
import { latency } from './latency.js';
import { consume, produceBulk } from './library.js';
import { catchup } from './londiste-catchup.js';
import { compareWorkload, repairWorkload } from './londiste-compare.js';
import { copyWorkload } from './londiste-copy.js';
import { live } from './londiste-live.js';
import { pgqdIdle } from './pgqd-idle.js';
import { pgqdScale } from './pgqd-scale.js';
import { produceHundred, produceOne, produceSet } from './produce.js';
import { steady } from './steady.js';
import { triggerWorkload } from './trigger.js';
import { walmgrArchive, walmgrBackup } from './walmgr.js';

export interface Workload {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<WorkloadResult>;
}

/** Every workload, in the order they run. */
export const workloads: readonly Workload[] = [
  {
    name: 'produce-1',
    description: 'pgq.insert_event, one event per transaction, 1 client / plain INSERT',
    run: (ctx) => produceOne(ctx, 1),
  },
  {
    name: 'produce-1-c4',
    description: 'pgq.insert_event, one event per transaction, 4 clients / plain INSERT',
    run: (ctx) => produceOne(ctx, 4),
  },
  {
    name: 'produce-100',
    description: '100 pgq.insert_event calls per transaction / 100 plain INSERTs',
    run: produceHundred,
  },
  {
    name: 'produce-set',
    description: 'pgq.insert_events with 1000-element arrays / one 1000-row INSERT ... VALUES',
    run: produceSet,
  },
  {
    name: 'produce-copy',
    description: 'COPY into pgq.current_event_table() / COPY into the plain table',
    run: produceCopy,
  },
  {
    name: 'trigger-insert',
    description:
      'one-row INSERTs into a 6-column table with pgq.logutriga / the same without trigger; upstream C logutriga where installed',
    run: (ctx) => triggerWorkload(ctx, 'insert'),
  },
  {
    name: 'trigger-update',
    description:
      'one-row UPDATEs by key of a 6-column table with pgq.logutriga / the same without trigger; upstream C logutriga where installed',
    run: (ctx) => triggerWorkload(ctx, 'update'),
  },
  {
    name: 'get-batch',
    description:
      'pgq.get_batch_events on a 10k-event batch, server side / plain SELECT of the same rows in ev_id order',
    run: (ctx) => getBatch(ctx, true),
  },
  {
    name: 'get-batch-unordered',
    description:
      'pgq.get_batch_events on a 10k-event batch, server side / plain SELECT in any order',
    run: (ctx) => getBatch(ctx, false),
  },
  {
    name: 'produce-bulk',
    description:
      'library bulkInsertEvents of 1M events / COPY of the same rows into the plain table',
    run: produceBulk,
  },
  {
    name: 'consume',
    description:
      'library Consumer, no-op handler, 1M events in 10k-event batches / plain SELECTs of the same rows',
    run: consume,
  },
  {
    name: 'branch-copy',
    description:
      'CascadedWorker moving 200k ticked events root -> branch database / COPY of the same rows into the plain table',
    run: branchCopy,
  },
  {
    name: 'latency',
    description:
      'commit-to-handler latency at 200 events/s, in-process pgqd defaults, Consumer on LISTEN pgq_tick',
    run: (ctx) => latency(ctx, 200),
  },
  {
    name: 'latency-20',
    description:
      'commit-to-handler latency at 20 events/s (a quiet queue between events), in-process pgqd defaults, Consumer on LISTEN pgq_tick',
    run: (ctx) => latency(ctx, 20),
  },
  {
    name: 'steady',
    description:
      'produce+consume for 3 minutes with pgqd ticking and rotating, xmin held for the middle third',
    run: steady,
  },
  {
    name: 'pgqd-idle',
    description:
      'CPU of pgqd + server with 100 idle queues in 10 databases, ticks against idle_period',
    run: pgqdIdle,
  },
  {
    name: 'pgqd-scale',
    description:
      'one pgqd for 20 databases x 5 queues at 50 events/s each: gaps between ticks of busy queues',
    run: pgqdScale,
  },
  {
    name: 'londiste-catchup-insert',
    description:
      'Londiste worker started after 200k one-row INSERT transactions, until the last is on the leaf / native subscription ENABLEd after the same',
    run: (ctx) => catchup(ctx, 'insert'),
  },
  {
    name: 'londiste-catchup-update',
    description:
      'Londiste worker started after 200k one-row UPDATE transactions, until the last is on the leaf / native subscription ENABLEd after the same',
    run: (ctx) => catchup(ctx, 'update'),
  },
  {
    name: 'londiste-copy',
    description:
      'Londiste add-table of a 1M-row table until ok on the leaf / CREATE SUBSCRIPTION until every table is r; 20 tx/s heartbeat on the source',
    run: copyWorkload,
  },
  {
    name: 'londiste-live',
    description:
      'replication delay p50/p99 at 2000 one-row tx/s for 60 s, Londiste with defaults / native subscription',
    run: live,
  },
  {
    name: 'walmgr-archive',
    description:
      '200 segments (quick: 20) archived by the server through walmgr xarchive / archive_command = cp %p DIR/%f && sync DIR/%f',
    run: walmgrArchive,
  },
  {
    name: 'walmgr-backup',
    description:
      'walmgr backup of a 2 GB cluster (quick: 200 MB), MB/s; restore time beside it / pg_basebackup -Fp -c fast where the client programs exist',
    run: walmgrBackup,
  },
  {
    name: 'londiste-compare',
    description:
      'londiste compare of a 1M-row table in sync (worker and ticker running) / a hand-written count + hash-sum query over both tables at once',
    run: compareWorkload,
  },
  {
    name: 'londiste-repair',
    description:
      'londiste repair --apply of a 1M-row table with 1000 rows changed, deleted and added on the leaf / londiste compare of it in sync',
    run: repairWorkload,
  },
];

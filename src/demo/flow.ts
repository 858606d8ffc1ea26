import type pg from 'pg';
import type { Logger } from 'pino';
import { openPool } from '../db/connect.js';
import { Consumer } from '../pgq/consumer.js';
import type { Event } from '../pgq/event.js';
import type { HandlerContext } from '../pgq/run-batch.js';
import { abortableSleep } from '../script/sleep.js';
import { Pgqd } from '../ticker/pgqd.js';
import { pgqdSettings } from '../ticker/settings.js';
import type { ConsumerSnapshot, Snapshot } from './display.js';
import type { DemoOptions } from './options.js';
import { produceSteadily } from './producer-loop.js';
import { type DemoObjects, demoConsumers } from './setup.js';
import type { DemoTarget } from './target.js';
import { FlowTracker, parsePayload } from './tracker.js';

/** After the producer stops, consumers get this long to handle what is left. */
const drainSeconds = 10;
const drainPollMs = 50;

export interface FlowResult {
  seconds: number;
  tracker: FlowTracker;
  final: Snapshot;
}

interface ConsumerInfoRow {
  consumer_name: string;
  lag: number | null;
  pending: number | null;
}

/**
 * The running part of the demo: ticker, two consumers and the producer, with a progress snapshot
 * every interval, until the duration is over, `signal` aborts or something fails. Then the
 * producer stops, the consumers catch up (unless `stopNow`), and everything is stopped in
 * reverse order before this returns or rethrows the first failure.
 */
export async function runFlow(
  target: DemoTarget,
  objects: DemoObjects,
  options: DemoOptions,
  io: { progress(snapshot: Snapshot): void; logger: Logger },
  control: { signal?: AbortSignal | undefined; stopNow?: AbortSignal | undefined },
): Promise<FlowResult> {
  const { queue } = objects;
  const tracker = new FlowTracker(demoConsumers);
  const produce = new AbortController();
  const consumersStop = new AbortController();
  const tickerStop = new AbortController();
  const stopNow = control.stopNow ?? new AbortController().signal;
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown) => {
    failure ??= { error };
    produce.abort();
    consumersStop.abort();
  };
  const stopProducing = () => produce.abort();
  control.signal?.addEventListener('abort', stopProducing, { once: true });
  stopNow.addEventListener('abort', stopProducing, { once: true });
  if (control.signal?.aborted || stopNow.aborted) produce.abort();

  const pool = openPool(target.config, { applicationName: 'skytools-demo', max: 4 });
  pool.on('error', () => {}); // an idle client killed by the server is replaced on next use
  const ticker = new Pgqd(
    pgqdSettings({ baseConnstr: target.baseConnstr, databaseList: [objects.database] }),
    {
      logger: io.logger,
      onTick: (_db, tickedQueue) => {
        if (tickedQueue === queue) tracker.ticks++;
      },
    },
  );
  const tickerRun = ticker.start(tickerStop.signal).catch(fail);
  const consumerRuns = demoConsumers.map(({ name, kind }, index) => {
    const consumer = new Consumer({
      connection: target.config,
      queue,
      consumer: name,
      transactional: kind === 'transactional',
      logger: io.logger,
      applicationName: `skytools-demo ${name}`,
    });
    const count = (event: Event, ctx: HandlerContext) => {
      const payload = parsePayload(event.json());
      if (payload !== null) tracker.consumed(index, payload, ctx.batch.id);
    };
    // The transactional consumer's work commits with finish_batch: its tally counts each event once.
    const tallySql = `update ${objects.tally} set events = events + 1 where consumer = $1`;
    const handler =
      kind === 'transactional'
        ? async (event: Event, ctx: HandlerContext) => {
            await ctx.client?.query(tallySql, [name]);
            count(event, ctx);
          }
        : count;
    return consumer.run(handler, { signal: consumersStop.signal, stopNow }).catch(fail);
  });

  const started = FlowTracker.now();
  const elapsed = () => (FlowTracker.now() - started) / 1000;
  let last = { at: started, produced: 0, consumed: tracker.consumers.map(() => 0) };
  const snapshot = async (phase: Snapshot['phase']): Promise<Snapshot> => {
    const info = await consumerInfo(target.admin, queue).catch((error: unknown) => {
      fail(error);
      return [];
    });
    const now = FlowTracker.now();
    const span = Math.max((now - last.at) / 1000, 1e-3);
    const consumers: ConsumerSnapshot[] = tracker.consumers.map((c, i) => {
      const row = info.find((r) => r.consumer_name === c.name);
      const shown = {
        name: c.name,
        kind: c.kind,
        consumed: c.consumed,
        perSecond: (c.consumed - (last.consumed[i] ?? 0)) / span,
        batches: c.batches,
        lag: row?.lag ?? null,
        pending: row?.pending ?? null,
        p50: c.recent.percentile(0.5),
        p99: c.recent.percentile(0.99),
      };
      c.recent.reset();
      return shown;
    });
    const shot: Snapshot = {
      elapsed: elapsed(),
      duration: options.duration,
      phase,
      produced: tracker.produced,
      producedPerSecond: (tracker.produced - last.produced) / span,
      ticks: tracker.ticks,
      consumers,
    };
    last = {
      at: now,
      produced: tracker.produced,
      consumed: tracker.consumers.map((c) => c.consumed),
    };
    return shot;
  };

  const timer =
    options.duration > 0 ? setTimeout(stopProducing, options.duration * 1000) : undefined;
  const producing = produceSteadily(pool, queue, options.rate, tracker, produce.signal).catch(fail);
  try {
    while (!produce.signal.aborted) {
      await abortableSleep(options.interval * 1000, produce.signal);
      if (!produce.signal.aborted) io.progress(await snapshot('running'));
    }
    await producing;
    const seconds = elapsed();
    let nextReport = FlowTracker.now() + options.interval * 1000;
    const drainUntil = FlowTracker.now() + drainSeconds * 1000;
    while (failure === null && !stopNow.aborted && !tracker.caughtUp()) {
      if (FlowTracker.now() >= drainUntil) break;
      await abortableSleep(drainPollMs, stopNow);
      if (FlowTracker.now() >= nextReport) {
        io.progress(await snapshot('draining'));
        nextReport += options.interval * 1000;
      }
    }
    consumersStop.abort();
    await Promise.all(consumerRuns);
    tickerStop.abort();
    await tickerRun;
    if (failure !== null) throw (failure as { error: unknown }).error;
    const final = await snapshot('done');
    return { seconds, tracker, final };
  } finally {
    clearTimeout(timer);
    control.signal?.removeEventListener('abort', stopProducing);
    stopNow.removeEventListener('abort', stopProducing);
    produce.abort();
    await producing;
    consumersStop.abort();
    await Promise.all(consumerRuns);
    tickerStop.abort();
    await tickerRun;
    await pool.end().catch(() => {});
  }
}

async function consumerInfo(admin: pg.Client, queue: string): Promise<ConsumerInfoRow[]> {
  const { rows } = await admin.query<ConsumerInfoRow>(
    `select consumer_name, extract(epoch from lag)::float8 as lag,
            pending_events::float8 as pending
       from pgq.get_consumer_info($1)`,
    [queue],
  );
  return rows;
}

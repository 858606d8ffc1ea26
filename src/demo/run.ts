import pino, { type Logger } from 'pino';
import type { DemoSummary, Snapshot } from './display.js';
import { runFlow } from './flow.js';
import { checkDemoOptions, type DemoOptions } from './options.js';
import {
  createDemoObjects,
  type DemoObjects,
  demoConsumers,
  dropDemoObjects,
  randomQueueName,
  readTally,
} from './setup.js';
import { openTarget } from './target.js';

export interface DemoIo {
  /** A progress snapshot every interval (and a last one when done). */
  progress?(snapshot: Snapshot): void;
  /** One-line notices: cluster started, schema installed, what was removed. */
  note?(message: string): void;
  /** For the ticker and consumers; default silent. */
  logger?: Logger;
  /**
   * Once the queue exists, before producing starts: where the demo runs (a connect string of
   * its database) and its queue, e.g. to open a dashboard on it. A throw fails the demo.
   */
  ready?(where: { db: string; queue: string }): Promise<void>;
}

export interface DemoControl {
  /** Graceful stop: the producer stops, consumers catch up, everything is removed. */
  signal?: AbortSignal;
  /** Stop at once: no catching up (batches in hand are delivered again, were the queue kept). */
  stopNow?: AbortSignal;
}

/**
 * The whole demo: a place to run (temporary cluster or `db`), pgq, a queue with a plain and a
 * transactional consumer, the ticker and a steady producer, then cleanup of what it created
 * (unless `keep`). Resolves with the summary; rejects with the first failure, after cleanup.
 */
export async function runDemo(
  options: DemoOptions,
  io: DemoIo = {},
  control: DemoControl = {},
): Promise<DemoSummary> {
  checkDemoOptions(options);
  const note = io.note ?? (() => {});
  const logger = io.logger ?? pino({ level: 'silent' });
  const target = await openTarget(options.db, options.keep, options.pgBin, note);
  const cleanup: string[] = [];
  let objects: DemoObjects | null = null;
  try {
    objects = await createDemoObjects(target.admin, options.queue ?? randomQueueName());
    if (objects.installed !== null) {
      note(`installed schema pgq ${objects.installed} in database ${objects.database}`);
    }
    note(
      `queue ${objects.queue}: consumers ${demoConsumers.map((c) => `${c.name} (${c.kind})`).join(' and ')}, ticker in-process, producing ${options.rate} events/s`,
    );
    await io.ready?.({ db: target.baseConnstr, queue: objects.queue });
    const flow = await runFlow(
      target,
      objects,
      options,
      { progress: io.progress ?? (() => {}), logger },
      control,
    );
    const tally = await readTally(target.admin, objects);
    return {
      target: target.label,
      queue: objects.queue,
      seconds: flow.seconds,
      produced: flow.tracker.produced,
      producedPerSecond: flow.seconds > 0 ? flow.tracker.produced / flow.seconds : 0,
      ticks: flow.tracker.ticks,
      consumers: flow.tracker.consumers.map((c) => ({
        name: c.name,
        kind: c.kind,
        consumed: c.consumed,
        batches: c.batches,
        latencyMs: {
          p50: c.total.percentile(0.5),
          p99: c.total.percentile(0.99),
          max: c.total.count > 0 ? c.total.max : null,
        },
      })),
      tally,
      cleanup,
    };
  } finally {
    // Only what this run made is removed; in a cluster of our own the cluster goes as a whole.
    if (objects !== null && target.cluster === null) {
      if (options.keep) {
        cleanup.push(
          `kept queue ${objects.queue}, consumers ${demoConsumers.map((c) => c.name).join(', ')} and table ${objects.tally}`,
        );
      } else {
        const problems = await dropDemoObjects(target.admin, objects);
        for (const problem of problems) note(problem);
        if (problems.length === 0) {
          cleanup.push(
            `removed queue ${objects.queue}, its consumers and table ${objects.tally}${objects.installed !== null ? ` (schema pgq stays)` : ''}`,
          );
        }
      }
    }
    cleanup.push(...(await target.close()));
  }
}

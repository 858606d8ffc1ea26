/**
 * The Prometheus metrics of a snapshot (prom-client), named by Prometheus' conventions:
 * `skytools_` prefix, the unit in the name (`_seconds`, `_events`), `_total` for counters,
 * queue, consumer, node and table names as labels. One list describes them all; the docs'
 * table of names is checked against it (test/monitor/docs.test.ts).
 */
import client from 'prom-client';
import type {
  CascadeConsumerSample,
  ConsumerSample,
  DatabaseSnapshot,
  MonitorSnapshot,
  NodeSample,
  QueueSample,
  TableSample,
} from './snapshot.js';

type Labels = Record<string, string>;
type Sample = [Labels, number];

export interface MetricSpec {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly labels: readonly string[];
  readonly values: (snapshot: MonitorSnapshot) => Iterable<Sample>;
}

const b = (value: boolean) => (value ? 1 : 0);

function* each<T>(
  snapshot: MonitorSnapshot,
  pick: (db: DatabaseSnapshot) => readonly T[],
  labels: (item: T) => Labels,
  value: (item: T) => number | null,
): Iterable<Sample> {
  for (const db of snapshot.databases) {
    for (const item of pick(db)) {
      const v = value(item);
      if (v !== null) yield [{ database: db.database, ...labels(item) }, v];
    }
  }
}

const queue = (
  name: string,
  type: MetricSpec['type'],
  help: string,
  value: (q: QueueSample) => number | null,
): MetricSpec => ({
  name: `skytools_pgq_queue_${name}`,
  type,
  help,
  labels: ['database', 'queue'],
  values: (s) =>
    each(
      s,
      (db) => db.queues,
      (q) => ({ queue: q.queue }),
      value,
    ),
});

const consumer = (
  name: string,
  type: MetricSpec['type'],
  help: string,
  value: (c: ConsumerSample) => number | null,
): MetricSpec => ({
  name: `skytools_pgq_consumer_${name}`,
  type,
  help,
  labels: ['database', 'queue', 'consumer'],
  values: (s) =>
    each(
      s,
      (db) => db.consumers,
      (c) => ({ queue: c.queue, consumer: c.consumer }),
      value,
    ),
});

const node = (name: string, help: string, value: (n: NodeSample) => number | null): MetricSpec => ({
  name: `skytools_cascade_node_${name}`,
  type: 'gauge',
  help,
  labels: ['database', 'queue', 'node'],
  values: (s) =>
    each(
      s,
      (db) => db.nodes,
      (n) => ({ queue: n.queue, node: n.node }),
      value,
    ),
});

const cascadeConsumer = (
  name: string,
  help: string,
  value: (c: CascadeConsumerSample) => number,
): MetricSpec => ({
  name: `skytools_cascade_consumer_${name}`,
  type: 'gauge',
  help,
  labels: ['database', 'queue', 'consumer'],
  values: (s) =>
    each(
      s,
      (db) => db.cascadeConsumers,
      (c) => ({ queue: c.queue, consumer: c.consumer }),
      value,
    ),
});

const table = (
  name: string,
  help: string,
  value: (t: TableSample) => number | null,
): MetricSpec => ({
  name: `skytools_londiste_table_${name}`,
  type: 'gauge',
  help,
  labels: ['database', 'queue', 'table'],
  values: (s) =>
    each(
      s,
      (db) => db.tables,
      (t) => ({ queue: t.queue, table: t.table }),
      value,
    ),
});

export const metricSpecs: readonly MetricSpec[] = [
  {
    name: 'skytools_up',
    type: 'gauge',
    help: 'Whether the database could be read at this scrape (1) or not (0)',
    labels: ['database'],
    values: (s) => s.databases.map((db) => [{ database: db.database }, b(db.up)] as Sample),
  },
  {
    name: 'skytools_database_scrape_duration_seconds',
    type: 'gauge',
    help: 'Time the round of queries to this database took',
    labels: ['database'],
    values: (s) =>
      s.databases.map((db) => [{ database: db.database }, db.durationSeconds] as Sample),
  },
  {
    name: 'skytools_scrape_duration_seconds',
    type: 'gauge',
    help: 'Time the whole scrape took (databases are read in parallel)',
    labels: [],
    values: (s) => [[{}, s.durationSeconds]],
  },
  queue(
    'events_total',
    'counter',
    'Position of the event id sequence: events inserted since the queue was created',
    (q) => q.eventsTotal,
  ),
  queue(
    'events_per_second',
    'gauge',
    'Insert rate over the last ticks (ev_per_sec of get_queue_info)',
    (q) => q.eventsPerSecond,
  ),
  queue('pending_events', 'gauge', 'Events inserted since the last tick', (q) => q.pendingEvents),
  queue('tick_age_seconds', 'gauge', 'Time since the last tick', (q) => q.tickAgeSeconds),
  queue(
    'ticker_lag_seconds',
    'gauge',
    'How long new events have waited for a tick (0 when there are none)',
    (q) => q.tickerLagSeconds,
  ),
  queue('last_tick_id', 'gauge', 'Id of the last tick', (q) => q.lastTickId),
  queue('ticker_paused', 'gauge', 'Whether ticking is paused (1) or not (0)', (q) =>
    b(q.tickerPaused),
  ),
  queue(
    'last_rotation_timestamp_seconds',
    'gauge',
    'When the event tables were last rotated (Unix time)',
    (q) => q.lastRotation,
  ),
  queue(
    'rotation_period_seconds',
    'gauge',
    'Rotation period of the event tables',
    (q) => q.rotationPeriodSeconds,
  ),
  {
    name: 'skytools_pgq_queue_rotation_blocked',
    type: 'gauge',
    help: 'A rotation is due and this consumer has not moved past the last one (1)',
    labels: ['database', 'queue', 'consumer'],
    values: function* (s) {
      for (const db of s.databases) {
        for (const q of db.queues) {
          for (const c of q.rotationBlockedBy) {
            yield [{ database: db.database, queue: q.queue, consumer: c }, 1];
          }
        }
      }
    },
  },
  consumer('lag_seconds', 'gauge', 'Time from the last finished tick to now', (c) => c.lagSeconds),
  consumer(
    'last_seen_seconds',
    'gauge',
    'Time since the consumer last asked for a batch',
    (c) => c.lastSeenSeconds,
  ),
  consumer(
    'pending_events',
    'gauge',
    'Events in ticks the consumer has not finished (estimate)',
    (c) => c.pendingEvents,
  ),
  consumer(
    'events_total',
    'counter',
    'Position of the consumer in the queue: events up to its last finished tick',
    (c) => c.eventsTotal,
  ),
  consumer(
    'retry_events',
    'gauge',
    'Events of the consumer in the retry queue',
    (c) => c.retryEvents,
  ),
  consumer(
    'batch_active',
    'gauge',
    'Whether the consumer holds an open batch (1) or not (0)',
    (c) => (c.lastTick === null ? null : b(c.currentBatch !== null)),
  ),
  {
    name: 'skytools_cascade_node_info',
    type: 'gauge',
    help: 'A cascade node of this database: type, provider and worker (always 1)',
    labels: ['database', 'queue', 'node', 'type', 'provider', 'worker'],
    values: (s) =>
      each(
        s,
        (db) => db.nodes,
        (n) => ({
          queue: n.queue,
          node: n.node,
          type: n.type,
          provider: n.provider ?? '',
          worker: n.worker ?? '',
        }),
        () => 1,
      ),
  },
  node(
    'lag_seconds',
    'Age of the last tick of a root or branch (none for a leaf)',
    (n) => n.lagSeconds,
  ),
  node('last_tick_id', 'Tick the node has processed up to', (n) => n.lastTick),
  node('paused', 'Whether the node worker is paused (1) or not (0)', (n) => b(n.paused)),
  node('uptodate', 'Whether the node worker has caught up with its state (1)', (n) =>
    b(n.uptodate),
  ),
  node('subscribers', 'Nodes subscribed to this one', (n) => n.subscribers.length),
  cascadeConsumer('paused', 'Whether the cascaded consumer is paused (1)', (c) => b(c.paused)),
  cascadeConsumer('error', 'Whether the cascaded consumer has an error stored (1)', (c) =>
    b(c.error !== null),
  ),
  {
    name: 'skytools_londiste_table_state',
    type: 'gauge',
    help: "The table's merge state (1 for the current one): new, in-copy, catching-up, wanna-sync, do-sync, ok",
    labels: ['database', 'queue', 'table', 'state'],
    values: (s) =>
      each(
        s,
        (db) => db.tables,
        (t) => ({ queue: t.queue, table: t.table, state: t.state }),
        () => 1,
      ),
  },
  table('local', 'Whether the table is replicated on this node (1)', (t) => b(t.local)),
  table('copy_rows', 'Rows the running initial copy has written so far', (t) => t.copyRows),
  table('copy_bytes', 'Bytes the running initial copy has written so far', (t) => t.copyBytes),
];

/** A registry holding the metrics of the last snapshot given to `update`. */
export class MonitorMetrics {
  readonly registry = new client.Registry();
  readonly #metrics: { spec: MetricSpec; metric: client.Gauge | client.Counter }[];
  #chain: Promise<unknown> = Promise.resolve();

  constructor() {
    this.#metrics = metricSpecs.map((spec) => {
      const config = {
        name: spec.name,
        help: spec.help,
        labelNames: [...spec.labels],
        registers: [this.registry],
      };
      return {
        spec,
        metric: spec.type === 'counter' ? new client.Counter(config) : new client.Gauge(config),
      };
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition of `snapshot`; renders one at a time, so outputs never mix. */
  render(snapshot: MonitorSnapshot): Promise<string> {
    const next = this.#chain.then(() => {
      this.#update(snapshot);
      return this.registry.metrics();
    });
    this.#chain = next.catch(() => {});
    return next;
  }

  #update(snapshot: MonitorSnapshot): void {
    for (const { spec, metric } of this.#metrics) {
      metric.reset();
      for (const [labels, value] of spec.values(snapshot)) {
        if (metric instanceof client.Counter) metric.inc(labels, Math.max(0, value));
        else metric.set(labels, value);
      }
    }
  }
}

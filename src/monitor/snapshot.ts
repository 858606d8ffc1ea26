/**
 * What one look at a database shows: its queues, consumers, cascade nodes and Londiste
 * tables, as the SQL API reports them (seconds as numbers, no intervals). The metrics, the
 * Munin plugin and the dashboard all draw from this one shape.
 */

export interface QueueSample {
  readonly queue: string;
  /** The queue's event id sequence: every event inserted since creation (rolled back too). */
  readonly eventsTotal: number | null;
  /** `ev_per_sec` of get_queue_info: the rate over the last ~20 ticks; null without a time delta. */
  readonly eventsPerSecond: number | null;
  /** Events inserted since the last tick (`ev_new`): not yet in any batch. */
  readonly pendingEvents: number;
  /** Seconds since the last tick (`ticker_lag` of get_queue_info). */
  readonly tickAgeSeconds: number | null;
  /** How long new events have waited for a tick: the tick age while `ev_new` > 0, else 0. */
  readonly tickerLagSeconds: number;
  readonly lastTickId: number | null;
  readonly tickerPaused: boolean;
  readonly externalTicker: boolean;
  readonly rotationPeriodSeconds: number | null;
  /** Unix time of the last rotation of the event tables. */
  readonly lastRotation: number | null;
  /** Consumers whose position is older than the last rotation while the next one is due. */
  readonly rotationBlockedBy: readonly string[];
}

export interface ConsumerSample {
  readonly queue: string;
  readonly consumer: string;
  /** Seconds from the consumer's last finished tick to now; null for a subconsumer. */
  readonly lagSeconds: number | null;
  /** Seconds since the consumer last asked for a batch. */
  readonly lastSeenSeconds: number | null;
  readonly lastTick: number | null;
  readonly currentBatch: number | null;
  /** Events in ticks the consumer has not finished (an estimate by event ids). */
  readonly pendingEvents: number | null;
  /** Events the consumer has finished: the event id position of its last tick. */
  readonly eventsTotal: number | null;
  /** Events of this consumer waiting in the retry queue; null when it cannot be read. */
  readonly retryEvents: number | null;
}

export interface NodeSample {
  readonly queue: string;
  readonly node: string;
  /** root, branch or leaf. */
  readonly type: string;
  readonly provider: string | null;
  readonly worker: string | null;
  readonly paused: boolean;
  readonly uptodate: boolean;
  readonly lastTick: number | null;
  /**
   * Seconds behind the root: the age of the node's last (copied) tick for a root or branch;
   * null on a leaf, which has no queue of its own (its worker's lag shows on the provider).
   */
  readonly lagSeconds: number | null;
  /** Nodes registered as this node's subscribers. */
  readonly subscribers: readonly string[];
}

export interface CascadeConsumerSample {
  readonly queue: string;
  readonly consumer: string;
  readonly provider: string | null;
  readonly paused: boolean;
  readonly uptodate: boolean;
  /** The last error the consumer stored, null when none. */
  readonly error: string | null;
}

export interface TableSample {
  readonly queue: string;
  readonly table: string;
  readonly local: boolean;
  /** `merge_state` without its tick (`wanna-sync:123` is `wanna-sync`); `new` when NULL. */
  readonly state: string;
  /** Rows a COPY into the table has written so far (pg_stat_progress_copy); null when none runs. */
  readonly copyRows: number | null;
  readonly copyBytes: number | null;
}

export interface DatabaseSnapshot {
  /** The `database` label: the database name, or host:port/name when two share a name. */
  readonly database: string;
  readonly up: boolean;
  /** Why the database could not be read (up = false). */
  readonly error: string | null;
  /** Seconds the round took, from sending the queries to the last row. */
  readonly durationSeconds: number;
  /** Unix time of the server's `now()` for this round. */
  readonly at: number;
  readonly queues: readonly QueueSample[];
  readonly consumers: readonly ConsumerSample[];
  readonly nodes: readonly NodeSample[];
  readonly cascadeConsumers: readonly CascadeConsumerSample[];
  readonly tables: readonly TableSample[];
}

export interface MonitorSnapshot {
  readonly databases: readonly DatabaseSnapshot[];
  /** Seconds the whole scrape took (databases are read in parallel). */
  readonly durationSeconds: number;
}

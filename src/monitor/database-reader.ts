/**
 * One monitored database: a session kept open between looks (opened again after a failure),
 * and each look one round of the statements of queries.ts turned into a DatabaseSnapshot.
 * A database that cannot be read gives `up: false` with the reason; it never fails the others.
 */
import type pg from 'pg';
import { openClient } from '../db/connect.js';
import { dataStatements, type Part, type Presence, presenceSql, samePresence } from './queries.js';
import type {
  CascadeConsumerSample,
  ConsumerSample,
  DatabaseSnapshot,
  NodeSample,
  QueueSample,
  TableSample,
} from './snapshot.js';

type Row = Record<string, unknown>;

/** Seconds a look may take on the server before it is cancelled. */
const statementTimeoutSeconds = 10;

export class DatabaseReader {
  #client: pg.Client | null = null;
  #broken = false;
  #presence: Presence | null = null;

  constructor(
    /** libpq key=value string or URL; undefined = the libpq environment. */
    readonly connstring: string | undefined,
    /** The `database` label. */
    readonly label: string,
  ) {}

  async read(): Promise<DatabaseSnapshot> {
    const started = performance.now();
    try {
      const { rows, at } = await this.#round();
      return build(this.label, rows, at, (performance.now() - started) / 1000);
    } catch (error) {
      await this.#drop();
      return {
        database: this.label,
        up: false,
        error: (error as Error).message,
        durationSeconds: (performance.now() - started) / 1000,
        at: Date.now() / 1000,
        queues: [],
        consumers: [],
        nodes: [],
        cascadeConsumers: [],
        tables: [],
      };
    }
  }

  async close(): Promise<void> {
    await this.#drop();
  }

  /** The rows of each part; a second round only when what is installed changed. */
  async #round(): Promise<{ rows: Map<Part, Row[]>; at: number }> {
    const client = await this.#connect();
    for (let attempt = 0; ; attempt++) {
      const known = this.#presence;
      const parts = known === null ? [] : dataStatements(known);
      const text = [presenceSql, ...parts.map((p) => p.sql)].join(';\n');
      let results: pg.QueryResult[];
      try {
        const result = (await client.query(text)) as pg.QueryResult | pg.QueryResult[];
        results = Array.isArray(result) ? result : [result];
      } catch (error) {
        this.#presence = null;
        // A schema dropped since the last look (no such table, function or schema): look at
        // what is there again, once.
        const code = (error as { code?: string }).code ?? '';
        if (attempt === 0 && known !== null && ['42P01', '42883', '3F000'].includes(code)) continue;
        throw error;
      }
      const head = results[0]?.rows[0] as Row;
      const found: Presence = {
        pgq: head.pgq === true,
        retryQueue: head.retry_queue === true,
        pgqNode: head.pgq_node === true,
        londiste: head.londiste === true,
        progressCopy: head.progress_copy === true,
      };
      this.#presence = found;
      if (known !== null && samePresence(known, found)) {
        const rows = new Map<Part, Row[]>();
        parts.forEach((p, i) => {
          rows.set(p.part, (results[i + 1]?.rows ?? []) as Row[]);
        });
        return { rows, at: Number(head.now) };
      }
      if (attempt > 2) throw new Error('the installed schemas keep changing');
    }
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client !== null && !this.#broken) return this.#client;
    await this.#drop();
    this.#broken = false;
    const client = await openClient(this.connstring, {
      applicationName: 'skytools monitor',
      defaultConnectTimeout: 10,
      onBroken: () => {
        this.#broken = true;
      },
    });
    this.#client = client;
    await client.query(`set statement_timeout = '${statementTimeoutSeconds}s'`);
    return client;
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#presence = null;
    if (client !== null) await client.end().catch(() => {});
  }
}

function num(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function build(
  database: string,
  rows: Map<Part, Row[]>,
  at: number,
  durationSeconds: number,
): DatabaseSnapshot {
  const retry = new Map<string, number>();
  for (const r of rows.get('retry') ?? []) {
    retry.set(key(r.queue_name, r.consumer_name), num(r.events) ?? 0);
  }
  const queueRows = rows.get('queues') ?? [];
  const queueByName = new Map(queueRows.map((r) => [r.queue_name, r]));
  const consumers: ConsumerSample[] = (rows.get('consumers') ?? []).map((r) => {
    const q = queueByName.get(r.queue_name);
    const pending = num(r.pending_events);
    const seq = num(q?.events_total);
    const fresh = num(q?.ev_new) ?? 0;
    return {
      queue: String(r.queue_name),
      consumer: String(r.consumer_name),
      lagSeconds: num(r.lag),
      lastSeenSeconds: num(r.last_seen),
      lastTick: num(r.last_tick),
      currentBatch: num(r.current_batch),
      pendingEvents: pending,
      // The last tick's event position less what the consumer has not finished.
      eventsTotal: seq !== null && pending !== null ? Math.max(0, seq - fresh - pending) : null,
      retryEvents: rows.has('retry') ? (retry.get(key(r.queue_name, r.consumer_name)) ?? 0) : null,
    };
  });
  const queues: QueueSample[] = queueRows.map((r) => {
    const tickAge = num(r.tick_age);
    const pendingEvents = num(r.ev_new) ?? 0;
    const rotationPeriod = num(r.rotation_period);
    const lastRotation = num(r.switch_time);
    const sinceRotation = lastRotation === null ? null : at - lastRotation;
    const due = sinceRotation !== null && rotationPeriod !== null && sinceRotation > rotationPeriod;
    return {
      queue: String(r.queue_name),
      eventsTotal: num(r.events_total),
      eventsPerSecond: num(r.ev_per_sec),
      pendingEvents,
      tickAgeSeconds: tickAge,
      tickerLagSeconds: pendingEvents > 0 ? (tickAge ?? 0) : 0,
      lastTickId: num(r.last_tick_id),
      tickerPaused: r.queue_ticker_paused === true,
      externalTicker: r.queue_external_ticker === true,
      rotationPeriodSeconds: rotationPeriod,
      lastRotation,
      // Rotation waits until every consumer has moved past the last switch of tables.
      rotationBlockedBy: due
        ? consumers
            .filter(
              (c) =>
                c.queue === r.queue_name &&
                c.lagSeconds !== null &&
                sinceRotation !== null &&
                c.lagSeconds > sinceRotation,
            )
            .map((c) => c.consumer)
        : [],
    };
  });
  const nodes: NodeSample[] = (rows.get('nodes') ?? []).map((r) => ({
    queue: String(r.queue_name),
    node: String(r.node_name),
    type: String(r.node_type),
    provider: r.provider_node === null ? null : String(r.provider_node),
    worker: r.worker_name === null ? null : String(r.worker_name),
    paused: r.worker_paused === true,
    uptodate: r.worker_uptodate === true,
    lastTick: num(r.worker_last_tick),
    lagSeconds:
      r.node_type === 'leaf'
        ? null
        : (queues.find((q) => q.queue === r.queue_name)?.tickAgeSeconds ?? null),
    subscribers: ((r.subscribers as string[] | null) ?? []).map(String),
  }));
  const cascadeConsumers: CascadeConsumerSample[] = (rows.get('cascadeConsumers') ?? []).map(
    (r) => ({
      queue: String(r.queue_name),
      consumer: String(r.consumer_name),
      provider: r.provider_node === null ? null : String(r.provider_node),
      paused: r.paused === true,
      uptodate: r.uptodate === true,
      error: r.cur_error === null || r.cur_error === undefined ? null : String(r.cur_error),
    }),
  );
  const tables: TableSample[] = (rows.get('tables') ?? []).map((r) => ({
    queue: String(r.queue_name),
    table: String(r.table_name),
    local: r.local === true,
    state: r.merge_state === null ? 'new' : String(r.merge_state).replace(/:.*$/, ''),
    copyRows: num(r.copy_rows),
    copyBytes: num(r.copy_bytes),
  }));
  return {
    database,
    up: true,
    error: null,
    durationSeconds,
    at,
    queues,
    consumers,
    nodes,
    cascadeConsumers,
    tables,
  };
}

function key(queue: unknown, consumer: unknown): string {
  return JSON.stringify([queue, consumer]);
}

import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

// The replicated tables of the Londiste workloads and the load written into them from Node:
// prepared one-row autocommit statements (the embedded 18 has no pgbench), from a few
// clients at once with the ids split between them.

/** DDL of a fresh replicated table (6 columns, as the trigger workloads use). */
export function rowTableDdl(table: string): string {
  return `
    create schema if not exists bench;
    drop table if exists ${table} cascade;
    create table ${table} (
      id bigint primary key,
      qty integer not null,
      name text not null,
      note text,
      amount numeric(12,2),
      created timestamptz not null default now());`;
}

export type RowKind = 'insert' | 'update';

function statement(kind: RowKind, table: string): pg.QueryConfig {
  return kind === 'insert'
    ? {
        name: `bench-rep-insert ${table}`,
        text: `insert into ${table} (id, qty, name, note, amount) values ($1, $2, $3, $4, $5)`,
      }
    : {
        name: `bench-rep-update ${table}`,
        text: `update ${table} set qty = $2, note = $3 where id = $1`,
      };
}

function values(kind: RowKind, id: number, round: number): unknown[] {
  return kind === 'insert'
    ? [id, id % 100, `customer-${id}`, `note of row ${id}, round ${round}`, id * 1.25]
    : [id, (id + round) % 100, `note of row ${id}, round ${round}`];
}

/** One transaction: row `id` inserted or updated. */
export async function writeRow(
  client: pg.Client,
  kind: RowKind,
  table: string,
  id: number,
  round: number,
): Promise<void> {
  await client.query({ ...statement(kind, table), values: values(kind, id, round) });
}

/** Rows 1..count, one transaction each, ids dealt round-robin to the clients running at once. */
export async function writeRows(
  clients: readonly pg.Client[],
  kind: RowKind,
  table: string,
  count: number,
  round: number,
): Promise<void> {
  await Promise.all(
    clients.map(async (client, c) => {
      for (let id = c + 1; id <= count; id += clients.length) {
        await writeRow(client, kind, table, id, round);
      }
    }),
  );
}

/** Rows 1..count without events or replication: both sides filled alike before a sample. */
export async function fillRows(client: pg.Client, table: string, count: number): Promise<void> {
  await client.query('begin');
  await client.query('set local session_replication_role = replica');
  await client.query(
    `insert into ${table} (id, qty, name, note, amount)
     select i, i % 100, 'customer-' || i, 'first note of row ' || i, i * 1.25
       from generate_series(1, $1) i`,
    [count],
  );
  await client.query('commit');
}

/** Empty the tables without events (the pgq triggers do not fire for the replica role). */
export async function emptyRows(client: pg.Client, tables: readonly string[]): Promise<void> {
  await client.query('begin');
  await client.query('set local session_replication_role = replica');
  await client.query(`truncate ${tables.join(', ')}`);
  await client.query('commit');
}

/** The marker committed after the load: a row the load never writes. */
export async function writeMarker(client: pg.Client, table: string, id: number): Promise<void> {
  await client.query(`insert into ${table} (id, qty, name) values ($1, 0, 'marker')`, [id]);
}

export async function hasRow(client: pg.Client, table: string, id: number): Promise<boolean> {
  const { rows } = await client.query(`select 1 from ${table} where id = $1`, [id]);
  return rows.length > 0;
}

/** Rows, their qty sum and note lengths: equal on both sides after a correct replay. */
export async function digest(client: pg.Client, table: string): Promise<string> {
  const { rows } = await client.query<{ d: string }>(
    `select count(*) || '/' || coalesce(sum(qty), 0) || '/' || coalesce(sum(length(note)), 0) as d
       from ${table}`,
  );
  return rows[0]?.d ?? '';
}

/**
 * Inserts at `rate` per second for `seconds`, ids from `firstId` up, the i-th row due at
 * start + i/rate and dealt to the clients in turn (a client that falls behind writes without
 * pausing). Resolves with the number of rows, the rate reached, and when each row's COMMIT
 * returned (performance.now(), index = id - firstId).
 */
export async function pacedInserts(
  clients: readonly pg.Client[],
  table: string,
  options: { rate: number; seconds: number; firstId: number },
): Promise<{ rows: number; rate: number; committedAt: Float64Array }> {
  const total = Math.round(options.rate * options.seconds);
  const committedAt = new Float64Array(total);
  const start = performance.now();
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = c; i < total; i += clients.length) {
        const wait = start + (i * 1000) / options.rate - performance.now();
        if (wait > 0) await sleep(wait);
        await writeRow(client, 'insert', table, options.firstId + i, 0);
        committedAt[i] = performance.now();
      }
    }),
  );
  return { rows: total, rate: total / ((performance.now() - start) / 1000), committedAt };
}

/**
 * Watches `table` on the target for rows with ids firstId..lastId: every `intervalMs` one
 * query for the ids from the lowest not yet seen up, noting for each new id when that query
 * was sent (performance.now(); the row was visible to it, so this bounds the arrival from
 * above, within one interval).
 */
export function watchArrivals(
  client: pg.Client,
  table: string,
  firstId: number,
  lastId: number,
  intervalMs = 5,
): { seenAt: Float64Array; seen(id: number): boolean; stop(): Promise<void> } {
  const seenAt = new Float64Array(lastId - firstId + 1).fill(Number.NaN);
  let low = firstId;
  let running = true;
  const loop = (async () => {
    while (running && low <= lastId) {
      const sent = performance.now();
      const { rows } = await client.query<{ id: string }>({
        name: `bench-watch ${table}`,
        text: `select id from ${table} where id >= $1 and id <= $2`,
        values: [low, lastId],
      });
      for (const row of rows) {
        const at = Number(row.id) - firstId;
        if (Number.isNaN(seenAt[at])) seenAt[at] = sent;
      }
      while (low <= lastId && !Number.isNaN(seenAt[low - firstId])) low += 1;
      const wait = sent + intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();
  loop.catch(() => {});
  return {
    seenAt,
    seen: (id) => !Number.isNaN(seenAt[id - firstId]),
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * `perSecond` one-row inserts into `table` until stopped, as a live root has, ids from
 * `firstId` up; `stop` resolves with the number written (and rejects with the first failure).
 */
export function heartbeat(
  client: pg.Client,
  table: string,
  firstId: number,
  perSecond = 20,
): { stop(): Promise<number> } {
  let running = true;
  let written = 0;
  const loop = (async () => {
    const start = performance.now();
    while (running) {
      await writeRow(client, 'insert', table, firstId + written, 0);
      written += 1;
      const wait = start + (written * 1000) / perSecond - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();
  loop.catch(() => {});
  return {
    stop: async () => {
      running = false;
      await loop;
      return written;
    },
  };
}

/**
 * Shared by the queue tool tests: a second database cloned from the run's template (pgq and
 * pgq_ext installed), the events a queue holds read straight from its tables, and ticking.
 */
import type pg from 'pg';
import { poll } from './../consumers/helpers.js';
import type { TestDatabase } from '../harness/database.js';
import { tick } from '../pgq-lib/helpers.js';

export interface OtherDb {
  name: string;
  pool: pg.Pool;
  libpq: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export async function otherDatabase(db: TestDatabase, suffix: string): Promise<OtherDb> {
  const name = await db.createDatabase(suffix, { template: db.cluster.templateDatabase });
  const pool = db.pool({ database: name });
  const c = db.config({ database: name });
  return {
    name,
    pool,
    libpq: `host=${c.host} port=${c.port} user=${c.user} dbname=${name}`,
    query: (text, values) => pool.query(text, values),
  };
}

export interface QueueEvent {
  ev_id: string;
  ev_time: string;
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
  ev_extra4: string | null;
}

/** Every event in the queue's tables (consumed or not), in id order. */
export async function queueEvents(
  db: OtherDb | TestDatabase,
  queue: string,
): Promise<QueueEvent[]> {
  const { rows } = await db.query<{ pfx: string }>(
    'select queue_data_pfx as pfx from pgq.queue where queue_name = $1',
    [queue],
  );
  const pfx = rows[0]?.pfx;
  if (pfx === undefined) throw new Error(`no queue ${queue}`);
  const events = await db.query<QueueEvent>(
    `select ev_id::text, ev_time::text, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
       from ${pfx} order by ev_id`,
  );
  return events.rows;
}

/** Tick the source queue until `check` passes (a batch may be read before all of it ticked). */
export async function tickUntil(
  db: TestDatabase,
  queue: string,
  check: () => Promise<boolean>,
  timeout = 30_000,
) {
  await poll(
    async () => {
      await tick(db, queue);
      return check();
    },
    (ok) => ok,
    timeout,
  );
}

/**
 * A one-shot run of a tool in this process (no job, no spawn: starting node costs seconds on
 * a loaded machine): its exit code and what it wrote to stdout and stderr.
 */
export async function runHere(
  run: (args: string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const original = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (key: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      out[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    const code = await run(args);
    return { code, ...out };
  } finally {
    process.stdout.write = original.stdout;
    process.stderr.write = original.stderr;
  }
}

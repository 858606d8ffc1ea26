/**
 * The part of resurrect that removes the old root's forked history: events committed after
 * the gravestone tick never reached the new root, and ticks after it would clash with the
 * new root's ticks of the same ids. The events are written to a JSON file first (fsynced),
 * then, in the same transaction that read them, exactly those events and the later ticks are
 * deleted; if the count deleted differs from the count dumped, nothing is deleted.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import type pg from 'pg';
import { CascadeError } from '../node-calls.js';
import {
  consumersSql,
  countLostEventsSql,
  deleteLostEventsSql,
  deleteLostTicksSql,
  eventTable,
  lostEventsSql,
  queueTableSql,
} from './resurrect-sql.js';
import type { AdminSession } from './session.js';

export interface LostEvent {
  tick_id: string | null;
  ev_id: string;
  ev_time: Date;
  ev_txid: string;
  ev_owner: number | null;
  ev_retry: number | null;
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
  ev_extra4: string | null;
}

/** Events fetched per round trip: the dump never holds more than this in memory. */
const FETCH_ROWS = 1000;

/** Dump the events after `gravestoneTick` to `file`, then delete them and the later ticks. */
export async function dumpAndDeleteLost(
  session: AdminSession,
  node: string,
  db: pg.Client,
  gravestoneTick: string,
  file: string,
): Promise<number> {
  const queue = session.queue;
  const [info] = await session.read<{ queue_id: number; queue_data_pfx: string }>(
    db,
    queueTableSql,
    [queue],
  );
  if (info === undefined) {
    throw new CascadeError('NO_QUEUE', `node ${node} has no queue ${queue}`, { queue, node });
  }
  const table = eventTable(info.queue_data_pfx);
  const params = [info.queue_id, gravestoneTick];
  if (session.dryRun) {
    const [row] = await session.read<{ n: string }>(db, countLostEventsSql(table), params);
    session.out.print(
      `[dry-run] on ${node}: would dump ${row?.n ?? 0} event(s) after tick ${gravestoneTick} to ${file}, then delete them and the ticks after ${gravestoneTick}`,
    );
    return Number(row?.n ?? 0);
  }
  let dump: DumpFile | undefined;
  // One snapshot for the dump and the delete: exactly the events written are deleted.
  await db.query('begin isolation level repeatable read');
  try {
    dump = new DumpFile(file);
    await db.query(`declare skytools_lost no scroll cursor for ${lostEventsSql(table)}`, params);
    for (;;) {
      const { rows } = await db.query<LostEvent>(`fetch ${FETCH_ROWS} from skytools_lost`);
      for (const event of rows) dump.add(event);
      if (rows.length < FETCH_ROWS) break;
    }
    await db.query('close skytools_lost');
    dump.finish();
    const dumped = dump.count;
    session.out.info(`${node}: dumped ${dumped} event(s) after tick ${gravestoneTick} to ${file}`);
    const deleted = await db.query(deleteLostEventsSql(table), params);
    if (deleted.rowCount !== dumped) {
      throw new CascadeError(
        'DUMP_MISMATCH',
        `deleted ${deleted.rowCount} events but dumped ${dumped}; nothing deleted`,
        { queue, node, tick: gravestoneTick },
      );
    }
    const ticks = await db.query(deleteLostTicksSql, params);
    // Only .global_watermark is left, and its position may be a tick just deleted.
    const { rows: consumers } = await db.query<{ consumer_name: string; last_tick: string }>(
      consumersSql,
      [queue],
    );
    for (const c of consumers) {
      if (BigInt(c.last_tick) > BigInt(gravestoneTick)) {
        await db.query('select pgq.register_consumer_at($1, $2, $3)', [
          queue,
          c.consumer_name,
          gravestoneTick,
        ]);
      }
    }
    await db.query('commit');
    session.out.info(
      `${node}: deleted ${dumped} event(s) and ${ticks.rowCount} tick(s) after tick ${gravestoneTick}`,
    );
    return dumped;
  } catch (error) {
    await db.query('rollback').catch(() => {});
    dump?.abandon();
    throw error;
  }
}

/**
 * The dump: a JSON list, one object per line, written as the events come and flushed to
 * disk before any delete. `wx`: an existing file is never overwritten.
 */
class DumpFile {
  readonly #file: string;
  readonly #fd: number;
  #closed = false;
  count = 0;

  constructor(file: string) {
    this.#file = file;
    this.#fd = openSync(file, 'wx');
    writeSync(this.#fd, '[');
  }

  add(event: LostEvent): void {
    const line = JSON.stringify({ ...event, ev_time: event.ev_time.toISOString() });
    writeSync(this.#fd, `${this.count === 0 ? '' : ','}\n  ${line}`);
    this.count++;
  }

  finish(): void {
    writeSync(this.#fd, this.count === 0 ? ']\n' : '\n]\n');
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#closed = true;
  }

  /** Nothing was deleted: a dump left behind would only block the next attempt. */
  abandon(): void {
    if (!this.#closed) closeSync(this.#fd);
    this.#closed = true;
    rmSync(this.#file, { force: true });
  }
}

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
  if (session.dryRun) {
    const events = await session.read<LostEvent>(db, lostEventsSql(table), [
      info.queue_id,
      gravestoneTick,
    ]);
    session.out.print(
      `[dry-run] on ${node}: would dump ${events.length} event(s) after tick ${gravestoneTick} to ${file}, then delete them and the ticks after ${gravestoneTick}`,
    );
    return events.length;
  }
  let written = false;
  await db.query('begin');
  try {
    const { rows: events } = await db.query<LostEvent>(lostEventsSql(table), [
      info.queue_id,
      gravestoneTick,
    ]);
    writeDump(file, events);
    written = true;
    session.out.info(
      `${node}: dumped ${events.length} event(s) after tick ${gravestoneTick} to ${file}`,
    );
    const ids = events.map((e) => e.ev_id);
    const deleted = await db.query(deleteLostEventsSql(table), [
      info.queue_id,
      gravestoneTick,
      ids,
    ]);
    if (deleted.rowCount !== events.length) {
      throw new CascadeError(
        'DUMP_MISMATCH',
        `deleted ${deleted.rowCount} events but dumped ${events.length}; nothing deleted`,
        { queue, node, tick: gravestoneTick },
      );
    }
    const ticks = await db.query(deleteLostTicksSql, [info.queue_id, gravestoneTick]);
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
      `${node}: deleted ${events.length} event(s) and ${ticks.rowCount} tick(s) after tick ${gravestoneTick}`,
    );
    return events.length;
  } catch (error) {
    await db.query('rollback').catch(() => {});
    // Nothing was deleted: a dump left behind would only block the next attempt.
    if (written) rmSync(file, { force: true });
    throw error;
  }
}

/** The dump: a JSON list, one object per event, written and flushed before any delete. */
function writeDump(file: string, events: LostEvent[]): void {
  const fd = openSync(file, 'wx');
  try {
    const body = events.map((e) => JSON.stringify({ ...e, ev_time: e.ev_time.toISOString() }));
    writeSync(fd, `[\n${body.map((line) => `  ${line}`).join(',\n')}${body.length ? '\n' : ''}]\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

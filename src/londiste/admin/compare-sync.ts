/**
 * One consistent point for compare on both sides (spec §6.10): the source table locked IN
 * SHARE MODE on a connection of its own (no writer can change it meanwhile; the lock waits
 * at most lock_timeout), the local worker brought past everything the source has of it,
 * then REPEATABLE READ snapshots opened on both sides and the lock released, so the counts
 * run without holding up writers.
 *
 * Past everything the source has: on the root, a tick forced after the lock is granted
 * holds every change of the table; on a branch, the position it has completed while its
 * worker cannot apply the table's next changes (they wait for the lock). The local worker
 * gets lock_timeout to reach it; then compare gives up ("Consumer lagging too much"), or
 * with --force goes on with a warning.
 */
import type pg from 'pg';
import type { AdminSession } from '../../cascade/admin/session.js';
import { CascadeError, getNodeInfo } from '../../cascade/node-calls.js';
import { connectNode } from '../../cascade/node-connection.js';
import { quoteFqname } from '../table-names.js';

export interface SyncOptions {
  /** The set's name of the table (log lines). */
  table: string;
  /** The table's relation on the source node. */
  sourceRelation: string;
  sourceNode: string;
  /** Seconds (lock_timeout). */
  lockTimeout: number;
  force: boolean;
  extraConnstr?: string;
  pollMs?: number;
}

export interface SyncPoint {
  /** The source node's session, in a REPEATABLE READ transaction. */
  source: pg.Client;
  /** The local node's session, in a REPEATABLE READ transaction at the same point. */
  local: pg.Client;
  /** Close both transactions. */
  end(): Promise<void>;
}

const QUERY_CANCELED = '57014';

export async function syncPoint(session: AdminSession, options: SyncOptions): Promise<SyncPoint> {
  const { queue } = session;
  const { table, sourceNode } = options;
  const timeoutMs = Math.max(1, Math.round(options.lockTimeout * 1000));
  const lock = await connectNode(
    await session.location(sourceNode),
    { queue, node: sourceNode },
    { extraConnstr: options.extraConnstr, applicationName: `londiste compare lock` },
  );
  lock.on('error', () => {}); // a server gone while we wait shows on the next query
  let opened: pg.Client[] = [];
  try {
    session.out.info(`Locking ${table}`);
    await lock.query(`set statement_timeout = ${timeoutMs}`);
    await lock.query('begin');
    try {
      await lock.query(`lock table only ${quoteFqname(options.sourceRelation)} in share mode`);
    } catch (error) {
      if ((error as { code?: string }).code !== QUERY_CANCELED) throw error;
      throw new CascadeError(
        'WAIT_TIMEOUT',
        `could not lock ${table} on node ${sourceNode} within lock_timeout (${options.lockTimeout} s): a long transaction holds it`,
        { queue, node: sourceNode, table },
        { cause: error },
      );
    }
    session.out.info(`Syncing ${table}`);
    const deadline = Date.now() + timeoutMs;
    const goal = await sourcePoint(session, sourceNode, deadline, options.pollMs);
    if (goal !== null) await waitLocal(session, goal, sourceNode, deadline, options);
    const source = await session.db(sourceNode);
    const local = await session.local();
    for (const db of [source, local]) {
      await db.query('begin transaction isolation level repeatable read read only');
      opened.push(db);
      // The snapshot is taken by the first statement, not by BEGIN.
      await db.query('select 1');
    }
    await lock.query('rollback');
    const both = opened;
    opened = [];
    return {
      source,
      local,
      async end() {
        for (const db of both) await db.query('commit');
      },
    };
  } finally {
    for (const db of opened) await db.query('rollback').catch(() => {});
    await lock.end().catch(() => {});
  }
}

/**
 * The tick the local node must have completed: on the root a new tick after the lock
 * (force_tick, then the ticker makes it), on a branch its completed position. null when
 * the root's ticker made none in time (only with --force does compare go on).
 */
async function sourcePoint(
  session: AdminSession,
  sourceNode: string,
  deadline: number,
  pollMs = 200,
): Promise<bigint | null> {
  const db = await session.db(sourceNode);
  const info = await getNodeInfo(db, session.queue);
  if (info.node_type !== 'root') return BigInt(info.worker_last_tick ?? '0');
  const { rows } = await db.query<{ tick: string | null }>(
    'select pgq.force_tick($1)::text as tick',
    [session.queue],
  );
  const before = BigInt(rows[0]?.tick ?? '0');
  for (;;) {
    const top = await db.query<{ tick: string | null }>(
      'select last_tick_id::text as tick from pgq.get_queue_info($1)',
      [session.queue],
    );
    const now = BigInt(top.rows[0]?.tick ?? '0');
    if (now > before) return now;
    if (Date.now() >= deadline) return before + 1n;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function waitLocal(
  session: AdminSession,
  goal: bigint,
  sourceNode: string,
  deadline: number,
  options: SyncOptions,
): Promise<void> {
  const local = await session.local();
  for (;;) {
    const info = await getNodeInfo(local, session.queue);
    const at = BigInt(info.worker_last_tick ?? '0');
    if (at >= goal) return;
    if (Date.now() >= deadline) {
      const detail = `node ${info.node_name} at tick ${at}, needs tick ${goal} of ${sourceNode} within lock_timeout (${options.lockTimeout} s); is its worker running, and the root's ticker?`;
      if (options.force) {
        session.out.warn(
          `${options.table}: Consumer lagging too much, comparing anyway (--force): ${detail}`,
        );
        return;
      }
      throw new CascadeError('NOT_CAUGHT_UP', `Consumer lagging too much, exiting: ${detail}`, {
        queue: session.queue,
        node: info.node_name,
        tick: String(at),
        goal: String(goal),
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
}

/**
 * One consistent point for compare and repair on both sides, without a lock that a writer
 * could wait on.
 *
 * Source = the root. The root's snapshot S is taken first (REPEATABLE READ on a session of
 * its own). The local node then needs a completed tick X whose snapshot S_X covers S (every
 * transaction S sees, S_X sees too); a forced tick makes one soon. A REPEATABLE READ snapshot
 * of the local node reads its completed tick in the same snapshot as its rows, and the worker
 * commits both in one transaction, so that snapshot holds exactly the root's state at S_X.
 * Between S and S_X only the transactions visible in S_X and not in S happened, and each
 * change they made to the table is an event in the root's queue (the trigger writes it in
 * the same transaction): their keys are the moving rows. Every other row is the same at S
 * and at S_X, so comparing the root at S with the local node at X, leaving the moving rows
 * out, is exact for all other rows. The moving rows are compared again at a later point
 * (compare.ts). Nothing waits on compare: writers go on, the worker goes on (it may pass X
 * meanwhile; the local snapshot stays at X).
 *
 * Source = a branch. Its rows change only by its worker, which commits them with its
 * completed tick B. Its worker is paused (and acknowledges, as upstream), the branch's
 * snapshot reads B with its rows, and the local node, fed by that branch, stops at B (the
 * branch's queue has no tick after B): its snapshot at completed tick B is the same point.
 * The branch's worker is resumed as soon as both snapshots are open. No row moves.
 */
import type pg from 'pg';
import { waitAcknowledged } from '../../cascade/admin/pause.js';
import type { AdminSession } from '../../cascade/admin/session.js';
import { CascadeError, callRet, getNodeInfo } from '../../cascade/node-calls.js';
import { connectNode } from '../../cascade/node-connection.js';
import { type MovingRows, movingRows } from './moving-rows.js';
import type { TableKey } from './table-key.js';

export interface SyncOptions {
  /** The set's name of the table (events, log lines). */
  table: string;
  /** null: the table's moving rows cannot be named (any change moves the whole table). */
  key: TableKey | null;
  sourceNode: string;
  /** Seconds the local node gets to reach the point (lock_timeout). */
  timeout: number;
  force: boolean;
  extraConnstr?: string;
  pollMs?: number;
}

export interface SyncPoint {
  /** The source node's session, in a REPEATABLE READ transaction at the point. */
  source: pg.Client;
  /** The local node's session, in a REPEATABLE READ transaction at the same point. */
  local: pg.Client;
  /** Rows that may differ only because they changed between the two snapshots. */
  moving: MovingRows;
  /** The local node's completed tick. */
  tick: string;
  /** Close both transactions and the source session. */
  end(): Promise<void>;
}

const snapshotBegin = 'begin transaction isolation level repeatable read read only';

export async function syncPoint(session: AdminSession, options: SyncOptions): Promise<SyncPoint> {
  const { queue } = session;
  session.out.info(`Syncing ${options.table}`);
  const source = await connectNode(
    await session.location(options.sourceNode),
    { queue, node: options.sourceNode },
    { extraConnstr: options.extraConnstr, applicationName: 'londiste compare' },
  );
  source.on('error', () => {}); // a server gone shows on the next query
  const local = await session.local();
  try {
    await source.query(snapshotBegin);
    const sourceInfo = await getNodeInfo(source, queue);
    const found =
      sourceInfo.node_type === 'root'
        ? await fromRoot(session, source, options)
        : await fromBranch(session, source, sourceInfo.worker_name as string, options);
    return {
      source,
      local,
      moving: found.moving,
      tick: found.tick,
      async end() {
        await local.query('commit');
        await source.end();
      },
    };
  } catch (error) {
    // Whichever step failed, no snapshot of the local node stays open.
    await local.query('rollback').catch(() => {});
    await source.end().catch(() => {});
    throw error;
  }
}

interface Found {
  moving: MovingRows;
  tick: string;
}

async function fromRoot(
  session: AdminSession,
  source: pg.Client,
  options: SyncOptions,
): Promise<Found> {
  const { queue } = session;
  const { rows } = await source.query<{ snap: string }>(
    'select txid_current_snapshot()::text as snap',
  );
  const snap = rows[0]?.snap as string;
  // A session of its own (not in the snapshot): ticks and events committed after it.
  const root = await session.db(options.sourceNode);
  await root.query('select pgq.force_tick($1)', [queue]);
  const local = await session.local();
  const deadline = Date.now() + options.timeout * 1000;
  let forced = Date.now();
  for (;;) {
    await local.query(snapshotBegin);
    const tick = (await getNodeInfo(local, queue)).worker_last_tick ?? '0';
    const { rows: t } = await root.query<{ covers: boolean; tick_snap: string }>(
      `select txid_snapshot_xmax(s.ts) >= txid_snapshot_xmax($3::txid_snapshot)
              and not exists (select 1 from txid_snapshot_xip(s.ts) x
                               where txid_visible_in_snapshot(x, $3::txid_snapshot)) as covers,
              s.ts::text as tick_snap
         from (select t.tick_snapshot as ts from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
                where q.queue_name = $1 and t.tick_id = $2::bigint) s`,
      [queue, tick, snap],
    );
    const at = t[0];
    if (at?.covers === true) {
      const moving = await movingRows(root, queue, options.table, options.key, snap, at.tick_snap);
      return { moving, tick };
    }
    if (Date.now() >= deadline) {
      const detail = `node ${(await session.localInfo()).node_name} at tick ${tick} has not reached a tick of ${options.sourceNode} taken after compare began within lock_timeout (${options.timeout} s); is its worker running, and the root's ticker?`;
      if (!options.force) {
        await local.query('rollback');
        throw new CascadeError('NOT_CAUGHT_UP', `Consumer lagging too much, exiting: ${detail}`, {
          queue,
          tick,
        });
      }
      session.out.warn(
        `${options.table}: Consumer lagging too much, comparing anyway (--force): ${detail}`,
      );
      return { moving: { kind: 'rows', keys: [] }, tick };
    }
    await local.query('rollback');
    if (Date.now() - forced > 2000) {
      // The ticker may have missed the first push (a paused ticker, a restart).
      await root.query('select pgq.force_tick($1)', [queue]);
      forced = Date.now();
    }
    await sleep(options.pollMs ?? 50);
  }
}

async function fromBranch(
  session: AdminSession,
  source: pg.Client,
  worker: string,
  options: SyncOptions,
): Promise<Found> {
  const { queue } = session;
  const branch = await session.db(options.sourceNode);
  const pause = (paused: boolean) =>
    callRet(
      branch,
      'select * from pgq_node.set_consumer_paused($1, $2, $3)',
      [queue, worker, paused],
      { queue, node: options.sourceNode, consumer: worker },
    );
  const wasPaused = (await getNodeInfo(branch, queue)).worker_paused === true;
  if (!wasPaused) {
    // The snapshot begun above must not be older than the pause: begin it again after.
    await source.query('rollback');
    await pause(true);
  }
  try {
    if (!wasPaused) {
      try {
        await waitAcknowledged(session, options.sourceNode, worker, 'pause', {
          timeoutSeconds: Math.max(1, options.timeout),
        });
      } catch (error) {
        if (!options.force) throw error;
        session.out.warn(
          `${options.table}: ${(error as Error).message}; comparing anyway (--force)`,
        );
      }
      await source.query(snapshotBegin);
    }
    const goal = (await getNodeInfo(source, queue)).worker_last_tick ?? '0';
    const local = await session.local();
    const deadline = Date.now() + options.timeout * 1000;
    for (;;) {
      await local.query(snapshotBegin);
      const tick = (await getNodeInfo(local, queue)).worker_last_tick ?? '0';
      if (tick === goal) return { moving: { kind: 'rows', keys: [] }, tick };
      const detail = `node ${(await session.localInfo()).node_name} at tick ${tick}, needs tick ${goal} of ${options.sourceNode}`;
      if (BigInt(tick) > BigInt(goal)) {
        await local.query('rollback');
        throw new CascadeError(
          'NOT_CAUGHT_UP',
          `${detail}: it went past the paused node (is ${options.sourceNode} its provider?)`,
          { queue, tick, goal },
        );
      }
      if (Date.now() >= deadline) {
        if (!options.force) {
          await local.query('rollback');
          throw new CascadeError(
            'NOT_CAUGHT_UP',
            `Consumer lagging too much, exiting: ${detail} within lock_timeout (${options.timeout} s); is its worker running?`,
            { queue, tick, goal },
          );
        }
        session.out.warn(
          `${options.table}: Consumer lagging too much, comparing anyway (--force): ${detail}`,
        );
        return { moving: { kind: 'rows', keys: [] }, tick };
      }
      await local.query('rollback');
      await sleep(options.pollMs ?? 50);
    }
  } finally {
    if (!wasPaused) await pause(false);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

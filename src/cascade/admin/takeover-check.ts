/**
 * The check takeover makes before it changes anything: the new node must be caught up with
 * the old one, or the switchover would hold writes disabled while it catches up (and a node
 * with a failing worker might never). "Caught up" allows a small margin, since the old node
 * keeps ticking while we look: at most one tick behind, or behind by ticks that span only a
 * few seconds. `--force` turns the refusal into a warning.
 */
import { CascadeError, type NodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';
import { tickOf, workerError } from './takeover-state.js';

/** Always caught up when this many ticks behind or fewer (the old node may have just ticked). */
export const TICK_MARGIN = 1n;
/** Further behind is still caught up while the missing ticks span this many seconds or less. */
export const LAG_MARGIN_SECONDS = 5;

const tickTimesSql =
  'select t.tick_id::text as tick_id, extract(epoch from t.tick_time)::float8 as epoch' +
  ' from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue' +
  ' where q.queue_name = $1 and t.tick_id = any($2::int8[])';

export interface CatchUp {
  newTick: bigint;
  oldTick: bigint;
  /** Seconds between the two ticks, when some node still has both. */
  lagSeconds: number | null;
}

/**
 * Refuse (CascadeError NOT_CAUGHT_UP) when `newInfo`'s worker is behind `oldTick` by more than
 * the margin or has an error; `tickSources` are nodes with a queue that may hold both ticks.
 */
export async function checkCaughtUp(
  session: AdminSession,
  oldName: string,
  oldTick: bigint,
  newInfo: NodeInfo,
  tickSources: string[],
  force: boolean,
): Promise<CatchUp> {
  const newName = newInfo.node_name ?? '';
  const newTick = tickOf(newInfo.worker_last_tick);
  const context = { queue: session.queue, node: newName, oldNode: oldName };
  const problems: string[] = [];

  const error = await workerError(session, newInfo);
  if (error !== null) {
    problems.push(`the worker of node ${newName} has an error: ${error.split('\n')[0]}`);
  }
  const behind = oldTick - newTick;
  const lagSeconds = behind > 0n ? await tickLag(session, newTick, oldTick, tickSources) : 0;
  const lagging = behind > TICK_MARGIN && (lagSeconds === null || lagSeconds > LAG_MARGIN_SECONDS);
  if (lagging) {
    const span = lagSeconds === null ? '' : `, ${lagSeconds.toFixed(1)} s`;
    problems.push(
      `node ${newName} is not caught up with ${oldName}: its worker has completed tick ${newTick}, ${oldName} is at tick ${oldTick} (${behind} ticks${span} behind)`,
    );
  }
  if (newInfo.worker_paused) {
    session.out.info(`${newName}: worker is paused; takeover resumes it when it needs it`);
  }
  const result = { newTick, oldTick, lagSeconds };
  if (problems.length === 0) {
    session.out.info(
      `${newName}: caught up with ${oldName} (tick ${newTick}, ${oldName} at ${oldTick})`,
    );
    return result;
  }
  if (force) {
    for (const problem of problems) session.out.warn(`${problem}; going on (--force)`);
    return result;
  }
  throw new CascadeError(
    'NOT_CAUGHT_UP',
    `${problems.join('; ')}; nothing changed. Wait until it catches up (setadm status shows the lag) or use --force`,
    { ...context, newTick: String(newTick), oldTick: String(oldTick) },
  );
}

/** Seconds between two ticks, from the first source that still has both; null if none has. */
async function tickLag(
  session: AdminSession,
  from: bigint,
  to: bigint,
  sources: string[],
): Promise<number | null> {
  for (const source of sources) {
    try {
      const rows = await session.read<{ tick_id: string; epoch: number }>(
        await session.db(source),
        tickTimesSql,
        [session.queue, [String(from), String(to)]],
      );
      const times = new Map(rows.map((r) => [BigInt(r.tick_id), r.epoch]));
      const a = times.get(from);
      const b = times.get(to);
      if (a !== undefined && b !== undefined) return b - a;
    } catch (error) {
      session.out.warn(`cannot read tick times on ${source}: ${(error as Error).message}`);
    }
  }
  return null;
}

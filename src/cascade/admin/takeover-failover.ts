/**
 * Failover from a dead root (`takeover OLD --dead-root`, §2.5). Whatever the old root had
 * committed and no subscriber had copied is lost to the cascade; the failover keeps as much
 * as any live node has: the new node first catches up from the subscriber that got
 * furthest, then becomes root, and a gravestone consumer `OLD.gravestone` on the new root
 * marks where the old root's history forks off, for `resurrect`.
 */
import { CascadeError, type NodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';
import { tagDead } from './tag-dead.js';
import {
  moveStep,
  pauseWorkerStep,
  promoteStep,
  registerAtStep,
  resumeAndWait,
  resumeWorkerStep,
  unregisterStep,
} from './takeover-node-steps.js';
import { type MemberState, subscribersOf, tickOf } from './takeover-state.js';
import { runSteps, type Step, setadm } from './takeover-steps.js';

/** The consumer on the new root that remembers a failed root's last position. */
export function gravestoneName(node: string): string {
  return `${node}.gravestone`;
}

export async function failoverRoot(
  session: AdminSession,
  oldName: string,
  newInfo: NodeInfo,
): Promise<void> {
  const newName = newInfo.node_name ?? '';
  const newDb = await session.db(newName);
  const gravestone = gravestoneName(oldName);
  const others = await subscribersOf(session, oldName, new Set([newName]));
  const ahead = furthestAhead(others, tickOf(newInfo.worker_last_tick));
  if (ahead !== null) {
    session.out.info(
      `${ahead.name} is further than ${newName} (tick ${ahead.info.worker_last_tick} vs ${newInfo.worker_last_tick}): ${newName} catches up from it first`,
    );
  }
  let lastTick: string | null = null;

  const steps: Step[] = [
    {
      title: `tag ${oldName} dead on every node that answers`,
      run: () => tagDead(session, oldName, { leaveAlone: true, quiet: true }),
      manual: () => setadm(`tag-dead ${oldName}`),
    },
  ];
  if (ahead !== null) {
    const target = tickOf(ahead.info.worker_last_tick);
    steps.push(moveStep(session, newName, ahead.name, ', which is further'), {
      title: `wait until ${newName} has completed tick ${target}`,
      run: () => resumeAndWait(session, newName, target, String(target)),
      manual: () => `${setadm('status')}: wait until ${newName} is at tick ${target}`,
    });
  }
  steps.push(
    pauseWorkerStep(session, newName),
    promoteStep(session, newName, newDb, async () => {
      // The fork point is the last tick the node copied (its queue's top): once it is root
      // it ticks by itself, and its new ticks reuse ids the old root may have used for
      // batches that are lost.
      lastTick = await queueTop(session, newName);
      session.out.info(`${newName}: last copied tick is ${lastTick}`);
    }),
  );
  // The provider the new root read from last, if it is alive, still holds events for it.
  const lastProvider =
    ahead?.name ?? (newInfo.provider_node !== oldName ? newInfo.provider_node : null);
  if (lastProvider !== null) steps.push(unregisterStep(session, lastProvider, newName));
  steps.push(
    registerAtStep(
      session,
      `register gravestone ${gravestone} on ${newName} at its last tick`,
      { provider: newName, db: newDb, subscriber: oldName, worker: gravestone },
      () => lastTick ?? `<last tick of ${newName}>`,
    ),
    resumeWorkerStep(session, newName),
  );
  const finalTick =
    ahead === null ? tickOf(newInfo.worker_last_tick) : tickOf(ahead.info.worker_last_tick);
  for (const sub of others) {
    if (tickOf(sub.info.worker_last_tick) > finalTick) {
      // A leaf can have read further than any branch: what it saw past the new root's last
      // tick is lost to the cascade, and no node has the ticks to continue it from.
      session.out.warn(
        `${sub.name} has completed tick ${sub.info.worker_last_tick}, beyond the new root's ${finalTick}: it saw events the cascade lost and cannot be moved under ${newName}; drop it and create it again (${setadm(`drop-node ${sub.name}`)})`,
      );
      continue;
    }
    steps.push(moveStep(session, sub.name, newName, ` (a subscriber of ${oldName})`));
  }
  await runSteps(session, `failover ${oldName} -> ${newName}`, steps);
}

/** The branch among `others` that has completed the most, if it is further than `tick`. */
function furthestAhead(others: MemberState[], tick: bigint): MemberState | null {
  let best: MemberState | null = null;
  let bestTick = tick;
  for (const other of others) {
    if (other.info.node_type !== 'branch') continue; // a leaf has no queue to copy from
    const at = tickOf(other.info.worker_last_tick);
    if (at > bestTick) {
      best = other;
      bestTick = at;
    }
  }
  return best;
}

async function queueTop(session: AdminSession, name: string): Promise<string> {
  const rows = await session.read<{ tick: string }>(
    await session.db(name),
    'select last_tick_id::text as tick from pgq.get_queue_info($1)',
    [session.queue],
  );
  const tick = rows[0]?.tick;
  if (tick === undefined) {
    throw new CascadeError('NO_QUEUE', `node ${name} has no queue ${session.queue}`, {
      queue: session.queue,
      node: name,
    });
  }
  return tick;
}

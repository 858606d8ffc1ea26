/**
 * Failover from a dead root (`takeover OLD --dead-root`, §2.5). Whatever the old root had
 * committed and no subscriber had copied is lost to the cascade; the failover keeps as much
 * as any live node has: the new node first catches up from the subscriber that got
 * furthest, then becomes root, and a gravestone consumer `OLD.gravestone` on the new root
 * marks where the old root's history forks off, for `resurrect`.
 */
import { CascadeError, type NodeInfo } from '../node-calls.js';
import { changeProvider } from './change-provider.js';
import { setPaused } from './pause.js';
import type { AdminSession } from './session.js';
import {
  liveMembers,
  type MemberState,
  memberInfo,
  subscribersOf,
  tickOf,
  waitForTick,
} from './takeover-state.js';
import { runSteps, type Step, setadm, sqlOn } from './takeover-steps.js';
import { registerSubscriberAt } from './takeover-subscribe.js';

/** The consumer on the new root that remembers a failed root's last position. */
export function gravestoneName(node: string): string {
  return `${node}.gravestone`;
}

export async function failoverRoot(
  session: AdminSession,
  oldName: string,
  newInfo: NodeInfo,
): Promise<void> {
  const queue = session.queue;
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
      run: () => tagDead(session, oldName),
      manual: () => setadm(`tag-dead ${oldName}`),
    },
  ];
  if (ahead !== null) {
    const target = tickOf(ahead.info.worker_last_tick);
    steps.push(
      {
        title: `move ${newName} under ${ahead.name}, which is further`,
        run: () => changeProvider(session, { node: newName, provider: ahead.name }),
        manual: () => setadm(`change-provider --node ${newName} --provider ${ahead.name}`),
      },
      {
        title: `wait until ${newName} has completed tick ${target}`,
        run: async () => {
          if ((await memberInfo(session, newName)).worker_paused) {
            await setPaused(session, { node: newName }, false);
          }
          await waitForTick(session, newName, target);
        },
        manual: () => `${setadm('status')}: wait until ${newName} is at tick ${target}`,
      },
    );
  }
  steps.push(
    {
      title: `pause the worker of ${newName}`,
      run: () => setPaused(session, { node: newName }, true),
      manual: () => setadm(`pause --node ${newName}`),
      undo: () => setadm(`resume --node ${newName}`),
    },
    {
      title: `promote ${newName} to root`,
      run: async () => {
        // The fork point is the last tick the node copied (its queue's top): once it is root
        // it ticks by itself, and its new ticks reuse ids the old root may have used for
        // batches that are lost.
        lastTick = await queueTop(session, newName);
        session.out.info(`${newName}: last copied tick is ${lastTick}`);
        await session.change(newName, newDb, 'select * from pgq_node.promote_branch($1)', [queue]);
      },
      manual: () => sqlOn(newName, 'pgq_node.promote_branch', [queue]),
      pointOfNoReturn: true,
    },
  );
  // The provider the new root read from last, if it is alive, still holds events for it.
  const lastProvider =
    ahead?.name ?? (newInfo.provider_node !== oldName ? newInfo.provider_node : null);
  if (lastProvider !== null) {
    steps.push({
      title: `unregister ${newName} from its old provider ${lastProvider}`,
      run: async () => {
        await session.change(
          lastProvider,
          await session.db(lastProvider),
          'select * from pgq_node.unregister_subscriber($1, $2)',
          [queue, newName],
        );
      },
      manual: () => sqlOn(lastProvider, 'pgq_node.unregister_subscriber', [queue, newName]),
    });
  }
  steps.push(
    {
      title: `register gravestone ${gravestone} on ${newName} at its last tick`,
      run: () => registerSubscriberAt(session, newName, newDb, oldName, gravestone, lastTick ?? ''),
      manual: () =>
        sqlOn(newName, 'pgq_node.register_subscriber', [
          queue,
          oldName,
          gravestone,
          lastTick ?? `<last tick of ${newName}>`,
        ]),
    },
    {
      title: `resume the worker of ${newName}`,
      run: () => setPaused(session, { node: newName }, false),
      manual: () => setadm(`resume --node ${newName}`),
    },
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
    steps.push({
      title: `move ${sub.name} (a subscriber of ${oldName}) under ${newName}`,
      run: () => changeProvider(session, { node: sub.name, provider: newName }),
      manual: () => setadm(`change-provider --node ${sub.name} --provider ${newName}`),
    });
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

/** tag-dead on the local node and every member that answers; the others are warned about. */
export async function tagDead(session: AdminSession, node: string): Promise<void> {
  const sql = 'select * from pgq_node.register_location($1, $2, null, true)';
  const local = await session.localInfo();
  await session.change(local.node_name ?? '', await session.local(), sql, [session.queue, node]);
  const skip = new Set([node, local.node_name ?? '']);
  for (const member of await liveMembers(session, skip)) {
    await session.change(member.name, await session.db(member.name), sql, [session.queue, node]);
  }
}

/**
 * Switchover of a live root (§2.5): the old root stops taking writes and makes a last tick;
 * the new node copies up to it and becomes the root; the old root becomes a branch reading
 * the new one from that tick. Between demote step 2 and promote no node accepts writes, so
 * producers see "Insert into queue disallowed" for that time and retry on the new root.
 */
import { quoteLiteral } from '../../db/quote.js';
import type { NodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';
import {
  type MergeWorker,
  mergeWorkers,
  setMergePaused,
  waitMergeMatch,
} from './takeover-merge.js';
import {
  demoteStep,
  pauseWorkerStep,
  promoteStep,
  registerAtStep,
  resumeAndWait,
  resumeWorkerStep,
  unregisterStep,
} from './takeover-node-steps.js';
import { tickOf } from './takeover-state.js';
import { runSteps, type Step, setadm, sqlOn } from './takeover-steps.js';

export async function switchoverRoot(
  session: AdminSession,
  oldInfo: NodeInfo,
  newInfo: NodeInfo,
): Promise<void> {
  const queue = session.queue;
  const oldName = oldInfo.node_name ?? '';
  const newName = newInfo.node_name ?? '';
  const oldWorker = oldInfo.worker_name ?? '';
  const newProvider = newInfo.provider_node ?? oldName;
  const oldDb = await session.db(oldName);
  const newDb = await session.db(newName);
  const merges = await mergeWorkers(oldDb, oldInfo.target_for);
  // The tick the new root must have completed: known after demote step 2.
  let lastTick: string | null = null;
  const lastTickText = () => lastTick ?? '<last tick of demote step 2>';

  const steps: Step[] = [];
  const mergeStep = (merge: MergeWorker, paused: boolean): Step => {
    const flag = (value: boolean) => () =>
      sqlOn(oldName, 'pgq_node.set_consumer_paused', [merge.partQueue, merge.worker, `${value}`]);
    return {
      title: `${paused ? 'pause' : 'resume'} merge worker ${merge.worker} of ${merge.partQueue} on ${oldName}`,
      run: () => setMergePaused(session, oldName, oldDb, merge, paused),
      manual: flag(paused),
      undo: paused ? flag(false) : undefined,
    };
  };
  for (const merge of merges) steps.push(mergeStep(merge, true));
  if (merges.length > 0) {
    steps.push({
      title: `wait until the merge positions on ${newName} match ${oldName}`,
      run: () => waitMergeMatch(session, oldDb, newDb, merges),
    });
  }
  steps.push(
    pauseWorkerStep(session, oldName, `pause the worker of old root ${oldName}`),
    {
      ...demoteStep(
        session,
        oldName,
        oldDb,
        1,
        newName,
        `demote ${oldName}, step 1: disable writes`,
      ),
      undo: () =>
        `on node ${oldName}: update pgq.queue set queue_disable_insert = false, queue_external_ticker = false where queue_name = ${quoteLiteral(queue)};`,
    },
    demoteStep(
      session,
      oldName,
      oldDb,
      2,
      newName,
      `demote ${oldName}, step 2: insert the last tick`,
      (row) => {
        lastTick = row?.last_tick ?? null;
        if (lastTick !== null) session.out.info(`${oldName}: last tick is ${lastTick}`);
      },
    ),
    {
      title: `wait until ${newName} has completed the last tick`,
      run: () =>
        resumeAndWait(
          session,
          newName,
          lastTick === null ? null : tickOf(lastTick),
          lastTickText(),
        ),
      manual: () =>
        `${setadm(`resume --node ${newName}`)}; then wait until ${newName}'s worker has completed tick ${lastTickText()} (${setadm('status')})`,
    },
    pauseWorkerStep(session, newName),
    promoteStep(session, newName, newDb),
    registerAtStep(
      session,
      `register ${oldName} as subscriber of ${newName} at the last tick`,
      { provider: newName, db: newDb, subscriber: oldName, worker: oldWorker },
      lastTickText,
    ),
    unregisterStep(session, newProvider, newName),
    resumeWorkerStep(session, newName),
    demoteStep(
      session,
      oldName,
      oldDb,
      3,
      newName,
      `demote ${oldName}, step 3: branch reading from ${newName}`,
    ),
    resumeWorkerStep(session, oldName),
  );
  for (const merge of merges) steps.push(mergeStep(merge, false));
  await runSteps(session, `switchover ${oldName} -> ${newName}`, steps);
}

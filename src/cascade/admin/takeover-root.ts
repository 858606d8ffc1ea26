/**
 * Switchover of a live root (§2.5): the old root stops taking writes and makes a last tick;
 * the new node copies up to it and becomes the root; the old root becomes a branch reading
 * the new one from that tick. Between demote step 2 and promote no node accepts writes, so
 * producers see "Insert into queue disallowed" for that time and retry on the new root.
 */
import { quoteLiteral } from '../../db/quote.js';
import type { NodeInfo } from '../node-calls.js';
import { setPaused } from './pause.js';
import type { AdminSession } from './session.js';
import { mergeWorkers, setMergePaused, waitMergeMatch } from './takeover-merge.js';
import { tickOf, waitForTick } from './takeover-state.js';
import { runSteps, type Step, setadm, sqlOn } from './takeover-steps.js';
import { registerSubscriberAt } from './takeover-subscribe.js';

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
  for (const merge of merges) {
    steps.push({
      title: `pause merge worker ${merge.worker} of ${merge.partQueue} on ${oldName}`,
      run: () => setMergePaused(session, oldName, oldDb, merge, true),
      manual: () =>
        sqlOn(oldName, 'pgq_node.set_consumer_paused', [merge.partQueue, merge.worker, 'true']),
      undo: () =>
        sqlOn(oldName, 'pgq_node.set_consumer_paused', [merge.partQueue, merge.worker, 'false']),
    });
  }
  if (merges.length > 0) {
    steps.push({
      title: `wait until the merge positions on ${newName} match ${oldName}`,
      run: () => waitMergeMatch(session, oldDb, newDb, merges),
    });
  }
  steps.push(
    {
      title: `pause the worker of old root ${oldName}`,
      run: () => setPaused(session, { node: oldName }, true),
      manual: () => setadm(`pause --node ${oldName}`),
      undo: () => setadm(`resume --node ${oldName}`),
    },
    {
      title: `demote ${oldName}, step 1: disable writes`,
      run: async () => {
        await session.change(oldName, oldDb, 'select * from pgq_node.demote_root($1, 1, $2)', [
          queue,
          newName,
        ]);
      },
      manual: () => sqlOn(oldName, 'pgq_node.demote_root', [queue, 1, newName]),
      undo: () =>
        `on node ${oldName}: update pgq.queue set queue_disable_insert = false, queue_external_ticker = false where queue_name = ${quoteLiteral(queue)};`,
    },
    {
      title: `demote ${oldName}, step 2: insert the last tick`,
      run: async () => {
        const row = await session.change<{ ret_code: number; ret_note: string; last_tick: string }>(
          oldName,
          oldDb,
          'select * from pgq_node.demote_root($1, 2, $2)',
          [queue, newName],
        );
        lastTick = row?.last_tick ?? null;
        if (lastTick !== null) session.out.info(`${oldName}: last tick is ${lastTick}`);
      },
      manual: () => sqlOn(oldName, 'pgq_node.demote_root', [queue, 2, newName]),
    },
    {
      title: `wait until ${newName} has completed the last tick`,
      run: async () => {
        const info = await session.read<{ worker_paused: boolean }>(
          newDb,
          'select worker_paused from pgq_node.get_node_info($1)',
          [queue],
        );
        if (info[0]?.worker_paused) await setPaused(session, { node: newName }, false);
        if (lastTick !== null) await waitForTick(session, newName, tickOf(lastTick));
        else
          session.out.print(
            `[dry-run] would wait until ${newName} has completed ${lastTickText()}`,
          );
      },
      manual: () =>
        `${setadm(`resume --node ${newName}`)}; then wait until ${newName}'s worker has completed tick ${lastTickText()} (${setadm('status')})`,
    },
    {
      title: `pause the worker of ${newName}`,
      run: () => setPaused(session, { node: newName }, true),
      manual: () => setadm(`pause --node ${newName}`),
      undo: () => setadm(`resume --node ${newName}`),
    },
    {
      title: `promote ${newName} to root`,
      run: async () => {
        await session.change(newName, newDb, 'select * from pgq_node.promote_branch($1)', [queue]);
      },
      manual: () => sqlOn(newName, 'pgq_node.promote_branch', [queue]),
      pointOfNoReturn: true,
    },
    {
      title: `register ${oldName} as subscriber of ${newName} at the last tick`,
      run: () =>
        registerSubscriberAt(
          session,
          newName,
          newDb,
          oldName,
          oldWorker,
          lastTick ?? lastTickText(),
        ),
      manual: () =>
        sqlOn(newName, 'pgq_node.register_subscriber', [queue, oldName, oldWorker, lastTickText()]),
    },
    {
      title: `unregister ${newName} from its old provider ${newProvider}`,
      run: async () => {
        await session.change(
          newProvider,
          await session.db(newProvider),
          'select * from pgq_node.unregister_subscriber($1, $2)',
          [queue, newName],
        );
      },
      manual: () => sqlOn(newProvider, 'pgq_node.unregister_subscriber', [queue, newName]),
    },
    {
      title: `resume the worker of ${newName}`,
      run: () => setPaused(session, { node: newName }, false),
      manual: () => setadm(`resume --node ${newName}`),
    },
    {
      title: `demote ${oldName}, step 3: branch reading from ${newName}`,
      run: async () => {
        await session.change(oldName, oldDb, 'select * from pgq_node.demote_root($1, 3, $2)', [
          queue,
          newName,
        ]);
      },
      manual: () => sqlOn(oldName, 'pgq_node.demote_root', [queue, 3, newName]),
    },
    {
      title: `resume the worker of ${oldName}`,
      run: () => setPaused(session, { node: oldName }, false),
      manual: () => setadm(`resume --node ${oldName}`),
    },
  );
  for (const merge of merges) {
    steps.push({
      title: `resume merge worker ${merge.worker} of ${merge.partQueue} on ${oldName}`,
      run: () => setMergePaused(session, oldName, oldDb, merge, false),
      manual: () =>
        sqlOn(oldName, 'pgq_node.set_consumer_paused', [merge.partQueue, merge.worker, 'false']),
    });
  }
  await runSteps(session, `switchover ${oldName} -> ${newName}`, steps);
}

/**
 * The steps the takeovers share, each with its progress title, how to do it by hand and,
 * where it can be taken back, how: pause and resume a node's worker, wait for a worker to
 * reach a tick, promote a branch, unregister a node from its old provider, register a
 * subscriber at a tick, and move a node under another provider. Switchover and failover of a
 * root are built from them; a branch takeover moves nodes.
 */
import type pg from 'pg';
import { changeProvider } from './change-provider.js';
import { setPaused } from './pause.js';
import type { AdminSession } from './session.js';
import { memberInfo, waitForTick } from './takeover-state.js';
import { type Step, setadm, sqlOn } from './takeover-steps.js';
import { registerSubscriberAt } from './takeover-subscribe.js';

/** Pause the node's worker (and wait until it acknowledges); undone by a resume. */
export function pauseWorkerStep(
  session: AdminSession,
  node: string,
  title = `pause the worker of ${node}`,
): Step {
  return {
    title,
    run: () => setPaused(session, { node }, true),
    manual: () => setadm(`pause --node ${node}`),
    undo: () => setadm(`resume --node ${node}`),
  };
}

export function resumeWorkerStep(session: AdminSession, node: string): Step {
  return {
    title: `resume the worker of ${node}`,
    run: () => setPaused(session, { node }, false),
    manual: () => setadm(`resume --node ${node}`),
  };
}

/**
 * Resume the node's worker if it is paused, then wait until it has completed `tick`; a tick
 * not known yet (a dry run that did not make it) is named by `unknown`.
 */
export async function resumeAndWait(
  session: AdminSession,
  node: string,
  tick: bigint | null,
  unknown: string,
): Promise<void> {
  if ((await memberInfo(session, node)).worker_paused) {
    await setPaused(session, { node }, false);
  }
  if (tick !== null) await waitForTick(session, node, tick);
  else session.out.print(`[dry-run] would wait until ${node} has completed ${unknown}`);
}

/**
 * demote_root step `step` on the old root, for `newRoot` (1: disable writes, 2: insert the last
 * tick, 3: become a branch of it); `after` gets the call's row (none in a dry run).
 */
export function demoteStep(
  session: AdminSession,
  node: string,
  db: pg.Client,
  step: 1 | 2 | 3,
  newRoot: string,
  title: string,
  after?: (row: { last_tick?: string | null } | undefined) => void,
): Step {
  return {
    title,
    run: async () => {
      const row = await session.change<{ ret_code: number; ret_note: string; last_tick: string }>(
        node,
        db,
        `select * from pgq_node.demote_root($1, ${step}, $2)`,
        [session.queue, newRoot],
      );
      after?.(row);
    },
    manual: () => sqlOn(node, 'pgq_node.demote_root', [session.queue, step, newRoot]),
  };
}

/** promote_branch on the node; `before` runs first (to read what the promotion changes). */
export function promoteStep(
  session: AdminSession,
  node: string,
  db: pg.Client,
  before?: () => Promise<void>,
): Step {
  return {
    title: `promote ${node} to root`,
    run: async () => {
      await before?.();
      await session.change(node, db, 'select * from pgq_node.promote_branch($1)', [session.queue]);
    },
    manual: () => sqlOn(node, 'pgq_node.promote_branch', [session.queue]),
    pointOfNoReturn: true,
  };
}

/** The provider the node no longer reads from forgets its subscription (and frees its events). */
export function unregisterStep(session: AdminSession, provider: string, node: string): Step {
  return {
    title: `unregister ${node} from its old provider ${provider}`,
    run: async () => {
      await session.change(
        provider,
        await session.db(provider),
        'select * from pgq_node.unregister_subscriber($1, $2)',
        [session.queue, node],
      );
    },
    manual: () => sqlOn(provider, 'pgq_node.unregister_subscriber', [session.queue, node]),
  };
}

/**
 * Register `subscriber` (its worker `worker`) on `provider` at `tick()`: the tick, or while it
 * is not known yet the words that say which it will be.
 */
export function registerAtStep(
  session: AdminSession,
  title: string,
  target: { provider: string; db: pg.Client; subscriber: string; worker: string },
  tick: () => string,
): Step {
  const { provider, db, subscriber, worker } = target;
  return {
    title,
    run: () => registerSubscriberAt(session, provider, db, subscriber, worker, tick()),
    manual: () =>
      sqlOn(provider, 'pgq_node.register_subscriber', [session.queue, subscriber, worker, tick()]),
  };
}

/**
 * change-provider of `node` to `provider`; `why` goes after the title, and `before` (the
 * provider it had) makes the step undoable.
 */
export function moveStep(
  session: AdminSession,
  node: string,
  provider: string,
  why = '',
  before: string | null = null,
): Step {
  return {
    title: `move ${node} under ${provider}${why}`,
    run: () => changeProvider(session, { node, provider }),
    manual: () => setadm(`change-provider --node ${node} --provider ${provider}`),
    undo:
      before === null
        ? undefined
        : () => setadm(`change-provider --node ${node} --provider ${before}`),
  };
}

/**
 * `takeover OLD` (§2.5), run on the new node: the local node takes the place of OLD.
 * Which takeover it is follows from OLD and the switches: a live root is switched over, a
 * dead one (`--dead-root`) failed over, and a branch or leaf position is taken over by
 * moving providers. Before anything changes, the plan is checked: OLD must be a member, a
 * node said to be dead must not answer, and for a live OLD the new node must be caught up
 * with it (`--force` to go on anyway).
 */
import { CascadeError, type NodeInfo } from '../node-calls.js';
import type { TakeoverDone } from './hooks.js';
import type { AdminSession } from './session.js';
import { takeoverBranch } from './takeover-branch.js';
import { checkCaughtUp } from './takeover-check.js';
import { failoverRoot } from './takeover-failover.js';
import { moveStep } from './takeover-node-steps.js';
import { switchoverRoot } from './takeover-root.js';
import { memberInfo, subscribersOf, tickOf } from './takeover-state.js';
import { runSteps } from './takeover-steps.js';

export interface TakeoverOptions {
  oldNode: string;
  all?: boolean;
  deadRoot?: boolean;
  deadBranch?: boolean;
  force?: boolean;
}

export async function takeover(session: AdminSession, options: TakeoverOptions): Promise<void> {
  const { kind, newNode } = await takeOnly(session, options);
  const steps = await session.hooks.takeoverSteps?.(session, {
    kind,
    oldNode: options.oldNode,
    newNode,
  });
  if (steps !== undefined && steps.length > 0) {
    await runSteps(session, `${kind} ${options.oldNode} -> ${newNode}: tool steps`, steps);
  }
}

/** The cascade's own takeover; which kind it was, and the new node's name. */
async function takeOnly(
  session: AdminSession,
  options: TakeoverOptions,
): Promise<{ kind: TakeoverDone['kind']; newNode: string }> {
  const queue = session.queue;
  const oldName = options.oldNode;
  const newInfo = await session.localInfo(true);
  const newName = newInfo.node_name ?? '';
  const context = { queue, node: newName, oldNode: oldName };
  if (options.deadRoot && options.deadBranch) {
    throw new CascadeError(
      'BAD_OPTIONS',
      '--dead-root and --dead-branch exclude each other',
      context,
    );
  }
  if (oldName === newName) {
    throw new CascadeError(
      'SELF_TAKEOVER',
      `node ${newName} cannot take over itself; run takeover on the node that is to take ${oldName}'s place`,
      context,
    );
  }
  await session.location(oldName); // an unknown node fails here, naming the members
  if (newInfo.node_type === 'leaf') {
    throw new CascadeError(
      'LEAF_TAKEOVER',
      `node ${newName} is a leaf of queue ${queue}: it has no queue to provide, so it cannot take over ${oldName}`,
      context,
    );
  }

  if (options.deadRoot || options.deadBranch) {
    const answering = await answers(session, oldName);
    if (answering !== null && !options.force) {
      throw new CascadeError(
        'OLD_NODE_ALIVE',
        `node ${oldName} still answers (type ${answering.node_type}); a failover onto a live node would fork the cascade. Use takeover without --dead-root/--dead-branch for a switchover, stop ${oldName} first, or --force`,
        context,
      );
    }
    if (options.deadRoot) {
      if (newInfo.node_type !== 'branch') {
        throw new CascadeError(
          'NOT_BRANCH',
          `only a branch can become the root; node ${newName} is a ${newInfo.node_type}`,
          context,
        );
      }
      await preflight(session, 'failover', oldName, newName, options);
      await failoverRoot(session, oldName, newInfo);
      return { kind: 'failover', newNode: newName };
    }
    await preflight(session, 'branch', oldName, newName, options);
    await takeoverBranch(session, { oldName, oldInfo: null, newInfo, moveAll: true });
    return { kind: 'branch', newNode: newName };
  }

  const oldInfo = await liveInfo(session, oldName);
  if (oldInfo.node_type === 'root') {
    if (newInfo.node_type !== 'branch') {
      throw new CascadeError(
        'NOT_BRANCH',
        `only a branch can become the root; node ${newName} is a ${newInfo.node_type}`,
        context,
      );
    }
    await checkCaughtUp(
      session,
      oldName,
      tickOf(oldInfo.worker_last_tick),
      newInfo,
      [oldName],
      options.force === true,
    );
    await preflight(session, 'switchover', oldName, newName, options);
    await switchoverRoot(session, oldInfo, newInfo);
    if (options.all) await moveSubscribers(session, oldName, newName);
    return { kind: 'switchover', newNode: newName };
  }
  await checkCaughtUp(
    session,
    oldName,
    tickOf(oldInfo.worker_last_tick),
    newInfo,
    [oldName, newName, newInfo.provider_node ?? ''].filter((n) => n !== ''),
    options.force === true,
  );
  await preflight(session, 'branch', oldName, newName, options);
  await takeoverBranch(session, { oldName, oldInfo, newInfo, moveAll: options.all === true });
  return { kind: 'branch', newNode: newName };
}

/** The tool's own checks (AdminHooks.beforeTakeover), once the cascade's have passed. */
async function preflight(
  session: AdminSession,
  kind: TakeoverDone['kind'],
  oldNode: string,
  newNode: string,
  options: TakeoverOptions,
): Promise<void> {
  await session.hooks.beforeTakeover?.(session, {
    kind,
    oldNode,
    newNode,
    force: options.force === true,
  });
}

/** The old node's info; a node that does not answer gets a hint about the failover switches. */
async function liveInfo(session: AdminSession, name: string): Promise<NodeInfo> {
  try {
    return await memberInfo(session, name);
  } catch (error) {
    if (
      error instanceof CascadeError &&
      (error.code === 'NODE_UNREACHABLE' || error.code === 'NODE_DEAD')
    ) {
      throw new CascadeError(
        error.code,
        `${error.message}; if it is gone for good, fail over with --dead-root (a root) or --dead-branch (a branch)`,
        { queue: session.queue, node: name },
        { cause: error },
      );
    }
    throw error;
  }
}

/** The node's info when it answers, null when it cannot be reached or is declared dead. */
async function answers(session: AdminSession, name: string): Promise<NodeInfo | null> {
  if (session.dead.has(name)) return null;
  try {
    return await memberInfo(session, name);
  } catch (error) {
    if (error instanceof CascadeError && error.code === 'NODE_UNREACHABLE') return null;
    throw error;
  }
}

/** `--all` after a switchover: the old root's remaining subscribers move under the new root. */
async function moveSubscribers(session: AdminSession, oldName: string, newName: string) {
  const subs = await subscribersOf(session, oldName, new Set([newName]));
  await runSteps(
    session,
    `move subscribers of ${oldName} to ${newName}`,
    subs.map((sub) => moveStep(session, sub.name, newName)),
  );
}

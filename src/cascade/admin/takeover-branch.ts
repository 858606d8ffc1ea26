/**
 * Takeover of a branch or leaf position (§2.5): the new node takes the old node's place in
 * the tree. Only providers change; no node changes type. With `--all`, or when the old node
 * is dead (`--dead-branch`), the old node's subscribers move under the new node first; then,
 * if the old node is the new node's own provider, the new node moves up to the old node's
 * provider; last, a live old node moves under the new node.
 */
import { CascadeError, getLocations, type NodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';
import { moveStep } from './takeover-node-steps.js';
import { liveMembers, subscribersOf } from './takeover-state.js';
import { runSteps, type Step } from './takeover-steps.js';

export interface BranchTakeoverPlan {
  oldName: string;
  /** null when the old node is dead. */
  oldInfo: NodeInfo | null;
  newInfo: NodeInfo;
  moveAll: boolean;
}

export async function takeoverBranch(
  session: AdminSession,
  plan: BranchTakeoverPlan,
): Promise<void> {
  const { oldName, oldInfo, newInfo } = plan;
  const newName = newInfo.node_name ?? '';
  const steps: Step[] = [];
  const move = (node: string, provider: string, why: string, before: string | null) =>
    moveStep(session, node, provider, why, before);

  if (plan.moveAll || oldInfo === null) {
    for (const sub of await subscribersOf(session, oldName, new Set([newName]))) {
      steps.push(move(sub.name, newName, ` (a subscriber of ${oldName})`, oldName));
    }
  }
  if (newInfo.provider_node === oldName) {
    const up = oldInfo?.provider_node ?? (await rootName(session, oldName));
    steps.push(move(newName, up, `, ${oldName}'s provider`, oldName));
  }
  if (oldInfo !== null) {
    steps.push(move(oldName, newName, '', oldInfo.provider_node));
  } else {
    session.out.info(`${oldName} is dead: it stays where it is until it is dropped or returns`);
  }
  await runSteps(session, `takeover ${oldName} -> ${newName}`, steps);
}

/** The root, for a new provider when the old node (the new node's provider) is dead. */
async function rootName(session: AdminSession, skip: string): Promise<string> {
  const members = await liveMembers(session, new Set([skip]));
  const root = members.find((m) => m.info.node_type === 'root');
  if (root !== undefined) return root.name;
  const names = (await getLocations(await session.local(), session.queue)).map((m) => m.node_name);
  throw new CascadeError(
    'NO_ROOT',
    `no live root among the members (${names.join(', ')}) of queue ${session.queue} to move under`,
    { queue: session.queue, node: skip },
  );
}

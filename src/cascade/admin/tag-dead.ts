/**
 * tag-dead: record on every member that a node is gone, so nobody waits for it or connects
 * to it. Members that do not answer are warned about; the command can be re-run for them.
 * A failover from a dead root tags it dead the same way, as its first step.
 */
import { CascadeError } from '../node-calls.js';
import { scanMembers, warnUnreachable } from './members.js';
import type { AdminSession } from './session.js';

export interface TagDeadOptions {
  /**
   * Do not try to reach `node` itself (a failover knows it is gone). The command tries, and
   * warns when it does not answer; either way `node` is not tagged on itself.
   */
  leaveAlone?: boolean;
  /** No `node N tagged dead` line on stdout (a failover says it in its step's progress line). */
  quiet?: boolean;
}

export async function tagDead(
  session: AdminSession,
  node: string,
  options: TagDeadOptions = {},
): Promise<void> {
  const { queue } = session;
  const local = await session.localInfo();
  const scan = await scanMembers(session, new Set(options.leaveAlone ? [node] : []));
  const member = scan.locations.find((l) => l.node_name === node);
  if (member === undefined) {
    throw new CascadeError(
      'UNKNOWN_NODE',
      `node ${node} is not a member of queue ${queue} (members: ${scan.locations.map((l) => l.node_name).join(', ')})`,
      { queue, node },
    );
  }
  if (node === local.node_name) {
    throw new CascadeError(
      'TAG_SELF_DEAD',
      `node ${node} is the local node; run tag-dead from another member`,
      { queue, node },
    );
  }
  const sql = 'select * from pgq_node.register_location($1, $2, null, true)';
  await session.change(local.node_name as string, await session.local(), sql, [queue, node]);
  for (const m of scan.live) {
    if (m.name === node || m.name === local.node_name) continue;
    await session.change(m.name, m.db, sql, [queue, node]);
  }
  warnUnreachable(session, scan, `not tagging ${node} dead`);
  if (!session.dryRun && !options.quiet) session.out.print(`node ${node} tagged dead`);
}

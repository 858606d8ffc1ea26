/**
 * drop-node: remove a member from the cascade. A node that still feeds others is refused:
 * dropping it would strand its subscribers (move them with change-provider first). The order
 * matters: the node itself first, then its provider (which frees the events it held back),
 * then the root (whose unregister event reaches every member), then each member directly.
 */
import { CascadeError } from '../node-calls.js';
import { type LiveMember, scanMembers, warnUnreachable } from './members.js';
import type { AdminSession } from './session.js';

export async function dropNode(session: AdminSession, node: string): Promise<void> {
  const { queue } = session;
  const ctx = { queue, node };
  const scan = await scanMembers(session);
  if (!scan.locations.some((l) => l.node_name === node)) {
    throw new CascadeError(
      'UNKNOWN_NODE',
      `node ${node} is not a member of queue ${queue} (members: ${scan.locations.map((l) => l.node_name).join(', ')})`,
      ctx,
    );
  }
  const self = scan.live.find((m) => m.name === node);
  const subscribers = new Set<string>();
  if (self !== undefined) {
    const rows = await session.read<{ node_name: string }>(
      self.db,
      'select node_name from pgq_node.get_subscriber_info($1)',
      [queue],
    );
    for (const r of rows) subscribers.add(r.node_name);
  }
  for (const m of scan.live) {
    if (m.name !== node && m.info.node_type !== 'root' && m.info.provider_node === node) {
      subscribers.add(m.name);
    }
  }
  if (subscribers.size > 0) {
    throw new CascadeError(
      'HAS_SUBSCRIBERS',
      `node ${node} still has subscribers: ${[...subscribers].sort().join(', ')}; move them to another provider first (change-provider)`,
      ctx,
    );
  }
  const dropSql = 'select * from pgq_node.drop_node($1, $2)';
  const done = new Set<string>();
  const drop = async (m: LiveMember) => {
    if (done.has(m.name)) return;
    done.add(m.name);
    await session.change(m.name, m.db, dropSql, [queue, node]);
  };
  if (self !== undefined) await drop(self);
  else
    session.out.warn(`node ${node} is dead or does not answer; dropping it from the others only`);
  const provider = await findProvider(session, scan.live, node, self);
  if (provider !== undefined) await drop(provider);
  const root = scan.live.find((m) => m.info.node_type === 'root' && m.name !== node);
  if (root !== undefined && !done.has(root.name)) {
    done.add(root.name);
    await session.change(root.name, root.db, 'select * from pgq_node.unregister_location($1, $2)', [
      queue,
      node,
    ]);
  }
  for (const m of scan.live) {
    if (m.name !== node) await drop(m);
  }
  warnUnreachable(session, scan, `node ${node} stays listed`);
  if (!session.dryRun) session.out.print(`node ${node} dropped from queue ${queue}`);
}

/** The node's provider by its own word, or (node silent) whoever has it as subscriber. */
async function findProvider(
  session: AdminSession,
  live: LiveMember[],
  node: string,
  self: LiveMember | undefined,
): Promise<LiveMember | undefined> {
  if (self !== undefined) {
    if (self.info.node_type === 'root') return undefined;
    return live.find((m) => m.name === self.info.provider_node && m.name !== node);
  }
  for (const m of live) {
    const rows = await session.read(
      m.db,
      'select 1 from pgq_node.get_subscriber_info($1) where node_name = $2',
      [session.queue, node],
    );
    if (rows.length > 0) return m;
  }
  return undefined;
}

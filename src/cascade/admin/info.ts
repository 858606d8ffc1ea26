/**
 * The read-only views of the local node: members (the location table), node-info (one
 * summary an operator greps), node-status (the local node with provider and subscribers).
 * None of them changes anything, so none takes the admin pidfile.
 */
import { redact } from '../../db/connstring.js';
import { getLocations } from '../node-calls.js';
import {
  detailLines,
  type NodeStatus,
  nodeLag,
  readNodeStatus,
  statusLine,
} from './node-status.js';
import type { AdminSession } from './session.js';

export async function members(session: AdminSession): Promise<void> {
  const rows = await getLocations(await session.local(), session.queue);
  table(
    session,
    ['node_name', 'dead', 'node_location'],
    rows.map((r) => [r.node_name, r.dead ? 'true' : 'false', redact(r.node_location)]),
  );
}

export async function nodeInfo(session: AdminSession): Promise<void> {
  const info = await session.localInfo();
  const locations = await getLocations(await session.local(), session.queue);
  const self = locations.find((l) => l.node_name === info.node_name);
  const state = self?.dead
    ? 'DEAD'
    : info.worker_paused
      ? 'PAUSED'
      : info.worker_uptodate === false
        ? 'NON-UP-TO-DATE'
        : 'OK';
  const lines: [string, string | null | undefined][] = [
    ['Queue', session.queue],
    ['Node', info.node_name],
    ['Type', info.node_type],
    ['Status', state],
    ['Location', self ? redact(self.node_location) : undefined],
    ['Provider', info.node_type === 'root' ? undefined : info.provider_node],
    [
      'Provider location',
      info.node_type === 'root' || !info.provider_location
        ? undefined
        : redact(info.provider_location),
    ],
    ['Worker', info.worker_name],
    ['Last tick', info.worker_last_tick],
    ['Global watermark', info.global_watermark],
    ['Local watermark', info.local_watermark],
    [
      'Combined queue',
      info.combined_queue ? `${info.combined_queue} (${info.combined_type})` : undefined,
    ],
    ['Target for', info.target_for?.join(', ')],
    ['Attributes', info.node_attrs],
  ];
  for (const [key, value] of lines) {
    if (value !== undefined && value !== null && value !== '')
      session.out.print(`${key}: ${value}`);
  }
}

export async function nodeStatus(session: AdminSession, color = false): Promise<void> {
  const info = await session.localInfo();
  const name = info.node_name as string;
  const locations = await getLocations(await session.local(), session.queue);
  const location = locations.find((l) => l.node_name === name)?.node_location ?? '';
  const node = await readNodeStatus(await session.local(), session.queue, { name, location });
  let provider: NodeStatus | undefined;
  const providerName = info.provider_node;
  if (info.node_type !== 'root' && providerName) {
    try {
      const p = locations.find((l) => l.node_name === providerName);
      if (p && !p.dead && !session.dead.has(providerName)) {
        provider = await readNodeStatus(await session.db(providerName), session.queue, {
          name: providerName,
          location: p.node_location,
        });
      }
    } catch (error) {
      session.out.warn(`provider ${providerName} not readable: ${(error as Error).message}`);
    }
  }
  session.out.print(`Queue: ${session.queue}   Node: ${name} (${info.node_type})`);
  session.out.print(statusLine(node, nodeLag(node, provider), color));
  if (info.node_type !== 'root') session.out.print(`Provider: ${providerName}`);
  session.out.print(`Subscribers: ${node.subscribers.join(', ') || '(none)'}`);
  const consumers = node.consumers.filter((c) => c.consumer_name !== info.worker_name);
  if (consumers.length > 0) {
    session.out.print(
      `Consumers: ${consumers.map((c) => `${c.consumer_name}${c.paused ? ' (paused)' : ''}`).join(', ')}`,
    );
  }
  for (const line of detailLines(node)) session.out.print(line);
}

/** Column-aligned table, as upstream's display_table prints it (minimum width 15). */
function table(session: AdminSession, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) =>
    Math.max(15, h.length, ...rows.map((r) => r[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 15)))
      .join('  ')
      .trimEnd();
  session.out.print(line(header));
  session.out.print(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) session.out.print(line(row));
}

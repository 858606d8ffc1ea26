/**
 * status: the whole cascade as a tree, every member read in parallel (a few at a time) so a
 * big set answers quickly and a member that does not answer shows up as such instead of
 * stopping the report. A tool on the cascade (Londiste: its tables) adds what it keeps per
 * node through a StatusExtension: read on the member's own connection in the same pass,
 * shown under the node.
 */
import type pg from 'pg';
import { getLocations } from '../node-calls.js';
import { memberDb } from './members.js';
import {
  detailLines,
  type NodeStatus,
  nodeLag,
  readNodeStatus,
  statusLine,
} from './node-status.js';
import type { AdminSession } from './session.js';

export interface StatusOptions {
  compact?: boolean;
  /** Red lag above a minute (on a terminal). */
  color?: boolean;
  extension?: StatusExtension;
}

/** What a tool adds to each node of the tree. */
export interface StatusExtension {
  /** Read from a reachable member, on its connection; kept as the node's `extra`. */
  read(db: pg.Client, queue: string, node: NodeStatus): Promise<unknown>;
  /**
   * The node's lines (it has `extra`; `nodes` are all members, for what depends on another
   * one, e.g. a provider): `summary` comes before the state line and on the compact line,
   * `details` after the state line (not in compact mode).
   */
  lines(node: NodeStatus, nodes: ReadonlyMap<string, NodeStatus>): ExtensionLines;
}

export interface ExtensionLines {
  summary: string[];
  details: string[];
}

const parallel = 8;

export async function readAll(
  session: AdminSession,
  extension?: StatusExtension,
): Promise<NodeStatus[]> {
  const localName = (await session.localInfo()).node_name;
  const members = await getLocations(await session.local(), session.queue);
  const result: NodeStatus[] = new Array(members.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const m = members[i];
      if (m === undefined) return;
      const base = { name: m.node_name, location: m.node_location };
      const empty = { consumers: [], readerLag: new Map(), subscribers: [] };
      if (m.dead || session.dead.has(m.node_name)) {
        result[i] = { ...base, ...empty, dead: true };
        continue;
      }
      try {
        const db = await memberDb(session, localName, m);
        const node = await readNodeStatus(db, session.queue, base);
        if (extension) node.extra = await extension.read(db, session.queue, node);
        result[i] = node;
      } catch (error) {
        result[i] = { ...base, ...empty, dead: false, error: (error as Error).message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, members.length) }, worker));
  return result;
}

export async function status(session: AdminSession, options: StatusOptions = {}): Promise<void> {
  const local = await session.localInfo();
  const nodes = await readAll(session, options.extension);
  session.out.print(`Queue: ${session.queue}   Local node: ${local.node_name}`);
  session.out.print('');
  for (const line of renderTree(nodes, options)) session.out.print(line);
}

/** The provider of each node: its own word, or for a silent node, who lists it as subscriber. */
function providerOf(nodes: NodeStatus[]): Map<string, string> {
  const parent = new Map<string, string>();
  for (const n of nodes) {
    for (const sub of n.subscribers) parent.set(sub, n.name);
  }
  for (const n of nodes) {
    const p = n.info?.provider_node;
    if (n.info?.node_type !== 'root' && p) parent.set(n.name, p);
  }
  return parent;
}

export function renderTree(nodes: NodeStatus[], options: StatusOptions = {}): string[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const parent = providerOf(nodes);
  const children = new Map<string, NodeStatus[]>();
  const tops: NodeStatus[] = [];
  for (const n of nodes) {
    const p = parent.get(n.name);
    if (p !== undefined && p !== n.name && byName.has(p)) {
      children.set(p, [...(children.get(p) ?? []), n]);
    } else {
      tops.push(n);
    }
  }
  // The root first; orphans (provider unknown) after it.
  tops.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  const lines: string[] = [];
  const shown = new Set<string>();
  const render = (n: NodeStatus, prefix: string, connector: string, indent: string) => {
    if (shown.has(n.name)) return;
    shown.add(n.name);
    const kids = children.get(n.name) ?? [];
    const lag = nodeLag(n, byName.get(parent.get(n.name) ?? ''));
    const state = n.info ? statusLine(n, lag, options.color === true) : '';
    const extra =
      options.extension && n.extra !== undefined
        ? options.extension.lines(n, byName)
        : { summary: [], details: [] };
    const details = options.compact
      ? detailLines(n)
      : [...extra.summary, ...(state ? [state] : []), ...detailLines(n), ...extra.details];
    const compactLine = [...extra.summary, ...(state ? [state] : [])].join('  ');
    const title = `${nodeTitle(n)}${options.compact && compactLine ? `  ${compactLine}` : ''}`;
    lines.push(`${prefix}${connector}${title}`);
    const childPrefix = prefix + indent;
    const bar = kids.length > 0 ? '|  ' : '   ';
    for (const d of details) lines.push(`${childPrefix}${bar}${d}`.trimEnd());
    kids.forEach((kid, i) => {
      render(kid, childPrefix, '+--', i === kids.length - 1 ? '   ' : '|  ');
    });
  };
  for (const top of tops) render(top, '', '', '');
  return lines;
}

function rank(n: NodeStatus): number {
  return n.info?.node_type === 'root' ? 0 : 1;
}

function nodeTitle(n: NodeStatus): string {
  if (n.dead) return `${n.name} (dead)`;
  if (n.error !== undefined) return `${n.name} (unreachable: ${n.error})`;
  return `${n.name} (${n.info?.node_type})`;
}

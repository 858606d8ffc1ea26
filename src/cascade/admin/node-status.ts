/**
 * What status and node-status show of one node: its get_node_info, the cascaded consumers
 * targeting it (errors, paused), the lag of every worker that reads its queue, and its
 * subscribers. Read from the node itself, so a tree can be put together from many nodes read
 * in parallel and an unreachable one costs only its own entry.
 */
import type pg from 'pg';
import { getNodeInfo, type NodeInfo } from '../node-calls.js';
import type { ConsumerInfo } from './target.js';

export interface NodeStatus {
  name: string;
  location: string;
  /** Tagged dead in node_location or by `--dead`: not contacted. */
  dead: boolean;
  /** Why the node could not be read. */
  error?: string;
  info?: NodeInfo;
  consumers: ConsumerInfo[];
  /** Seconds behind of each pgq consumer of this node's queue, by consumer name. */
  readerLag: Map<string, number>;
  /** Root only: seconds since the queue's last tick. */
  tickerLag?: number;
  subscribers: string[];
  /** What a tool's status extension read from this node (status.ts). */
  extra?: unknown;
}

const readerLagSql =
  'select consumer_name, extract(epoch from lag)::float8 as lag from pgq.get_consumer_info($1)';
const tickerLagSql =
  'select extract(epoch from ticker_lag)::float8 as lag from pgq.get_queue_info($1)';
const consumersSql = 'select * from pgq_node.get_consumer_info($1)';
const subscribersSql = 'select node_name from pgq_node.get_subscriber_info($1)';

export async function readNodeStatus(
  db: pg.Client,
  queue: string,
  member: { name: string; location: string },
): Promise<NodeStatus> {
  const info = await getNodeInfo(db, queue);
  const status: NodeStatus = {
    ...member,
    dead: false,
    info,
    consumers: (await db.query<ConsumerInfo>(consumersSql, [queue])).rows,
    readerLag: new Map(),
    subscribers: [],
  };
  if (info.node_type !== 'leaf') {
    for (const row of (
      await db.query<{ consumer_name: string; lag: number }>(readerLagSql, [queue])
    ).rows) {
      status.readerLag.set(row.consumer_name, row.lag);
    }
    status.subscribers = (await db.query<{ node_name: string }>(subscribersSql, [queue])).rows.map(
      (r) => r.node_name,
    );
  }
  if (info.node_type === 'root') {
    const lag = (await db.query<{ lag: number | null }>(tickerLagSql, [queue])).rows[0]?.lag;
    if (lag !== null && lag !== undefined) status.tickerLag = lag;
  }
  return status;
}

/** The node's lag: the root's ticker lag, or its worker's lag as its provider sees it. */
export function nodeLag(node: NodeStatus, provider: NodeStatus | undefined): number | undefined {
  if (node.info?.node_type === 'root') return node.tickerLag;
  const worker = node.info?.worker_name;
  if (worker === null || worker === undefined) return undefined;
  return provider?.readerLag.get(worker);
}

/** `Lag: 3s, Tick: 12, PAUSED`: the line monitors and operators read first. */
export function statusLine(node: NodeStatus, lag: number | undefined, color: boolean): string {
  const info = node.info;
  if (info === undefined) return '';
  const parts: string[] = [];
  if (lag !== undefined) {
    const text = `Lag: ${formatLag(lag)}`;
    parts.push(color && lag > 60 ? `\u001b[31m${text}\u001b[0m` : text);
  }
  parts.push(`Tick: ${info.worker_last_tick ?? '-'}`);
  if (info.worker_paused) parts.push('PAUSED');
  if (info.worker_uptodate === false) parts.push('NOT UPTODATE');
  return parts.join(', ');
}

/** `Attr:` and `ERR:` lines. */
export function detailLines(node: NodeStatus): string[] {
  const lines: string[] = [];
  const attrs = node.info?.node_attrs;
  if (attrs) {
    const pairs = [...new URLSearchParams(attrs)].map(([k, v]) => `${k}=${v}`);
    lines.push(`Attr: ${pairs.join(', ')}`);
  }
  for (const consumer of node.consumers) {
    if (consumer.cur_error) {
      lines.push(`ERR: ${consumer.consumer_name}: ${consumer.cur_error.split('\n')[0]}`);
    }
  }
  return lines;
}

export function formatLag(seconds: number): string {
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

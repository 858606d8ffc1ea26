/**
 * What `--node N` / `--consumer C` name: a cascaded consumer (by default a node's worker) in the
 * local_state of a node. pause, resume and change-provider all act on one of these.
 */
import type pg from 'pg';
import type { Queryable } from '../../db/queryable.js';
import { CascadeError, getNodeInfo, type NodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';

export interface TargetSpec {
  node?: string;
  consumer?: string;
}

export interface Target {
  node: string;
  consumer: string;
  db: pg.Client;
  /** get_node_info of the target node. */
  info: NodeInfo;
  /** The consumer is the node's own worker (a subscriber of its provider), not a plain one. */
  isWorker: boolean;
}

/** pgq_node.get_consumer_info row: one consumer targeting a node. */
export interface ConsumerInfo {
  consumer_name: string;
  provider_node: string;
  last_tick_id: string;
  paused: boolean;
  uptodate: boolean;
  cur_error: string | null;
}

/** Resolve node (default: the local node) and consumer (default: that node's worker). */
export async function resolveTarget(session: AdminSession, spec: TargetSpec): Promise<Target> {
  const node = spec.node ?? (await session.localInfo()).node_name;
  if (node === null) {
    throw new CascadeError('NO_NODE', `no local node for queue ${session.queue}`, {
      queue: session.queue,
    });
  }
  const db = await session.db(node);
  const info = await getNodeInfo(db, session.queue);
  const consumer = spec.consumer ?? info.worker_name;
  if (consumer === null) {
    throw new CascadeError('NO_WORKER', `node ${node} has no worker for queue ${session.queue}`, {
      queue: session.queue,
      node,
    });
  }
  return { node, consumer, db, info, isWorker: consumer === info.worker_name };
}

/** The consumer's row on its target node; CascadeError naming it when it is not there. */
export async function consumerInfo(
  db: Queryable,
  queue: string,
  node: string,
  consumer: string,
): Promise<ConsumerInfo> {
  const { rows } = await db.query<ConsumerInfo>(
    'select * from pgq_node.get_consumer_info($1) where consumer_name = $2',
    [queue, consumer],
  );
  const row = rows[0];
  if (row === undefined) {
    throw new CascadeError(
      'UNKNOWN_CONSUMER',
      `consumer ${consumer} is not registered on node ${node} of queue ${queue}`,
      { queue, node, consumer },
    );
  }
  return row;
}

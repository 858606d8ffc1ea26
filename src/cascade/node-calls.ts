/**
 * Typed calls of the pgq_node functions that both the cascaded worker and the set admin make.
 * Every function of that schema answers `(ret_code, ret_note, ...)`; codes of 400 and above
 * are refusals, turned here into one typed error that names queue and node, so no caller
 * forgets to look at the code.
 */
import type { QueryResultRow } from 'pg';
import { withDatabaseErrors } from '../db/database-error.js';
import type { Queryable } from '../db/queryable.js';
import { SkytoolsError } from '../errors.js';

export interface RetRow extends QueryResultRow {
  ret_code: number;
  ret_note: string;
}

export interface CascadeContext {
  queue: string;
  node?: string;
  consumer?: string;
  [key: string]: unknown;
}

/** A pgq_node refusal (ret_code >= 400) or a cascade rule broken on the Node side. */
export class CascadeError extends SkytoolsError {}

/**
 * Run a pgq_node call and return its first row; a code >= `failFrom` (400 by default) throws
 * CascadeError with the function's own note, so texts stay upstream's. A server or connection
 * error rejects as a DatabaseFailure naming queue, node and consumer (`cause`: pg's error).
 */
export async function callRet<R extends RetRow = RetRow>(
  db: Queryable,
  sql: string,
  values: unknown[],
  context: CascadeContext,
  failFrom = 400,
): Promise<R> {
  const { rows } = await withDatabaseErrors(context, () => db.query<R>(sql, values));
  const row = rows[0];
  if (row === undefined) {
    throw new CascadeError('CASCADE_NO_RESULT', `no result from: ${sql}`, context);
  }
  if (row.ret_code >= failFrom) {
    throw new CascadeError(
      'CASCADE_REFUSED',
      `${row.ret_note} (code ${row.ret_code}, queue ${context.queue}${context.node ? `, node ${context.node}` : ''})`,
      { ...context, retCode: row.ret_code, retNote: row.ret_note },
    );
  }
  return row;
}

export type NodeType = 'root' | 'branch' | 'leaf';

/** pgq_node.get_node_info: int8 columns stay strings, as pg returns them (tick ids pass 2^53). */
export interface NodeInfo extends RetRow {
  node_type: NodeType | null;
  node_name: string | null;
  global_watermark: string | null;
  local_watermark: string | null;
  provider_node: string | null;
  provider_location: string | null;
  combined_queue: string | null;
  combined_type: NodeType | null;
  worker_name: string | null;
  worker_paused: boolean | null;
  worker_uptodate: boolean | null;
  worker_last_tick: string | null;
  node_attrs: string | null;
  target_for: string[] | null;
}

/** The local node of `queue`; CascadeError when the queue has no node here. */
export async function getNodeInfo(db: Queryable, queue: string): Promise<NodeInfo> {
  return callRet<NodeInfo>(db, 'select * from pgq_node.get_node_info($1)', [queue], { queue });
}

/** pgq_node.get_consumer_state: what a cascaded consumer targeting this node reads each loop. */
export interface ConsumerState extends RetRow {
  node_type: NodeType;
  node_name: string;
  completed_tick: string;
  provider_node: string;
  provider_location: string;
  paused: boolean;
  uptodate: boolean;
  cur_error: string | null;
}

export async function getConsumerState(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<ConsumerState> {
  return callRet<ConsumerState>(
    db,
    'select * from pgq_node.get_consumer_state($1, $2)',
    [queue, consumer],
    { queue, consumer },
  );
}

/** pgq_node.get_worker_state: the node's worker's view, with watermarks and queue top. */
export interface WorkerState extends ConsumerState {
  worker_name: string;
  global_watermark: string | null;
  local_watermark: string | null;
  local_queue_top: string | null;
  combined_queue: string | null;
  combined_type: NodeType | null;
}

export async function getWorkerState(db: Queryable, queue: string): Promise<WorkerState> {
  return callRet<WorkerState>(db, 'select * from pgq_node.get_worker_state($1)', [queue], {
    queue,
  });
}

export interface Location {
  node_name: string;
  node_location: string;
  dead: boolean;
}

/** Every member of the cascade as this node knows it, sorted by name. */
export async function getLocations(db: Queryable, queue: string): Promise<Location[]> {
  const { rows } = await db.query<Location>(
    'select * from pgq_node.get_queue_locations($1) order by node_name',
    [queue],
  );
  return rows;
}

/**
 * Cascade nodes for the londiste SQL tests, made with the same pgq_node calls the admin tool
 * makes, inside one database: a root (with its queue), or a branch or leaf whose provider is
 * only a registered location (no worker ever reads from it here). One database may hold
 * nodes of several queues, which is what the merge cases need.
 */
import type pg from 'pg';
import { one, type Row, ret } from '../pgq_node/node-helpers.js';

export { one, type Row, ret };

/** Make this database a node of `queue`; `root` creates the queue. */
export async function createNode(
  db: pg.ClientBase,
  queue: string,
  type: 'root' | 'branch' | 'leaf',
  node = `${type}_node`,
) {
  const steps: [string, unknown[]][] = [
    ['select * from pgq_node.register_location($1, $2, $3, false)', [queue, node, 'dbname=x']],
  ];
  if (type === 'root') {
    steps.push([
      `select * from pgq_node.create_node($1, 'root', $2, 'w', null, null, null)`,
      [queue, node],
    ]);
  } else {
    steps.push(
      ['select * from pgq_node.register_location($1, $2, $3, false)', [queue, 'up', 'dbname=up']],
      [
        'select * from pgq_node.create_node($1, $2, $3, $4, $5, 1, null)',
        [queue, type, node, 'w', 'up'],
      ],
    );
  }
  for (const [sql, params] of steps) {
    const result = await ret(db, sql, params);
    if (result.ret_code >= 300) throw new Error(`${sql}: ${result.ret_code} ${result.ret_note}`);
  }
}

/** The events in the queue's tables so far, oldest first. */
export async function queueEvents(db: pg.ClientBase, queue: string): Promise<Row[]> {
  const { queue_data_pfx: table } = await one(
    db,
    'select queue_data_pfx from pgq.queue where queue_name = $1',
    [queue],
  );
  const { rows } = await db.query(
    `select ev_type, ev_data, ev_extra1, ev_extra2 from ${table} order by ev_id`,
  );
  return rows;
}

/** The server error of a statement (SQLSTATE and message), or null when it succeeds. */
export async function failure(
  db: pg.ClientBase,
  sql: string,
  params?: unknown[],
): Promise<{ code: string; message: string } | null> {
  try {
    await db.query(sql, params);
    return null;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
}

/**
 * Where a table's first copy comes from: the provider, a node named with `--copy-node`, or
 * with `--find-copy-node` the first node up the cascade that holds every requested table
 * with data (local there, `ok`, and a handler that stores rows).
 */
import type pg from 'pg';
import type { AdminSession } from '../../cascade/admin/session.js';
import { getNodeInfo, type NodeInfo } from '../../cascade/node-calls.js';
import { SkytoolsError } from '../../errors.js';
import type { createTableHandler as CreateTableHandler } from '../handlers/registry.js';
import { parseHandlerSpec } from '../handlers/spec.js';
import type { TableInfo } from '../table-state.js';
import { readTables } from './node-tables.js';

function holdsData(
  row: TableInfo | undefined,
  createTableHandler: typeof CreateTableHandler,
): boolean {
  if (row === undefined || !row.local || (row.mergeState !== 'ok' && row.mergeState !== '?')) {
    return false;
  }
  if (row.tableAttrs === null || !row.tableAttrs.includes('handler')) return true;
  const handler = createTableHandler(parseHandlerSpec(row.tableAttrs), {
    tableName: row.tableName,
    destTable: row.destTable ?? row.tableName,
  });
  return handler.needsTable() && (handler.sourceRows?.() ?? true);
}

export interface CopySource {
  name: string;
  db: pg.Client;
  tables: TableInfo[];
}

/** Walk from the local node's provider towards the root. */
export async function findCopyNode(
  session: AdminSession,
  info: NodeInfo,
  tables: readonly string[],
): Promise<CopySource> {
  const { createTableHandler } = await import('../handlers/registry.js');
  let name = info.provider_node;
  const seen = new Set<string>();
  while (name !== null && !seen.has(name)) {
    seen.add(name);
    const db = await session.node(name);
    const list = await readTables(db, session.queue);
    const missing = tables.filter(
      (t) =>
        !holdsData(
          list.find((row) => row.tableName === t),
          createTableHandler,
        ),
    );
    if (missing.length === 0) {
      session.out.info(`Found copy node: ${name}`);
      return { name, db, tables: list };
    }
    const nodeInfo = await getNodeInfo(db, session.queue);
    if (nodeInfo.node_type === 'root') break;
    name = nodeInfo.provider_node;
  }
  throw new SkytoolsError(
    'MISSING_OBJECT',
    `no node up the cascade holds all of ${tables.join(', ')} with data (--find-copy-node)`,
    { tables },
  );
}

/** `--copy-node NODE`: a member other than the local node. */
export async function namedCopyNode(
  session: AdminSession,
  info: NodeInfo,
  name: string,
): Promise<CopySource> {
  if (name === info.node_name) {
    throw new SkytoolsError('BAD_OPTION', `--copy-node ${name} is the local node itself`);
  }
  const db = await session.node(name);
  return { name, db, tables: await readTables(db, session.queue) };
}

/**
 * `londiste status`: setadm's tree of the cascade (src/cascade/admin/status.ts) with each
 * node's tables: upstream's `Tables: ok/half/ignored` line, then every local table not in
 * sync with its state, every table in sync that was compared here with the last result, and for a table being copied into the node, the COPY's progress
 * against what its copy source holds (rows, bytes, rate, ETA).
 */

import type { AdminSession } from '../../cascade/admin/session.js';
import { type StatusExtension, status } from '../../cascade/admin/status.js';
import {
  isOk,
  type NodeTables,
  readNodeTables,
  tableLine,
  tablesSummary,
} from './status-tables.js';

export const tablesExtension: StatusExtension = {
  read: (db, queue) => readNodeTables(db, queue),
  lines(node, nodes) {
    const own = node.extra as NodeTables;
    if (!own.installed) return { summary: [], details: [] };
    const details = own.tables
      .filter((t) => t.local && (!isOk(t) || t.lastCompare !== null))
      .map((t) => {
        // The copy source: the table's copy_node, else the node's provider.
        const sourceName = t.copyNode ?? node.info?.provider_node ?? undefined;
        const source = sourceName === undefined ? undefined : nodes.get(sourceName);
        const there = (source?.extra as NodeTables | undefined)?.tables.find(
          (s) => s.name === t.name,
        );
        return tableLine(
          t,
          there === undefined ? undefined : { rows: there.estimatedRows, bytes: there.sizeBytes },
        );
      });
    return { summary: [tablesSummary(own.tables)], details };
  },
};

export async function londisteStatus(
  session: AdminSession,
  options: { compact?: boolean; color?: boolean },
): Promise<void> {
  await status(session, { ...options, extension: tablesExtension });
}

/**
 * What Londiste adds to create-root/branch/leaf: the `londiste` schema before the node is
 * made (our installer, which refuses a foreign `londiste` schema; a database with upstream's
 * londiste extension keeps it and works as it is), and after it, on a branch
 * or leaf the provider's table list and sequence positions (`global_add_table`,
 * `global_update_seq`), filtered by register_only_* / register_skip_*.
 */
import type pg from 'pg';
import type { AdminHooks, CreatedNode } from '../../cascade/admin/hooks.js';
import type { AdminSession } from '../../cascade/admin/session.js';
import { installSchemas } from '../../db/installer.js';
import type { LondisteSettings } from '../settings.js';
import { readSeqs, readTables } from './node-tables.js';
import { registerFilter } from './register-filter.js';
import { londisteTakeoverHooks } from './takeover-hooks.js';

type Filters = Pick<
  LondisteSettings,
  'registerOnlyTables' | 'registerSkipTables' | 'registerOnlySeqs' | 'registerSkipSeqs'
>;

async function installLondiste(session: AdminSession, node: CreatedNode, local: pg.Client) {
  const { rows } = await local.query(
    `select pg_catalog.to_regprocedure('londiste.version()') is not null as present`,
  );
  if (rows[0]?.present === true) return;
  if (session.dryRun) {
    session.out.print(`[dry-run] on ${node.name}: install schema londiste`);
    return;
  }
  for (const result of await installSchemas(local, ['londiste'])) {
    session.out.info(`${node.name}: installed schema ${result.schema} ${result.current}`);
  }
}

async function copyRegistrations(
  session: AdminSession,
  node: CreatedNode,
  local: pg.Client,
  filters: Filters,
) {
  // In a dry run the local node does not exist yet: reach the provider by the given location.
  const provider = session.dryRun
    ? await session.node(`provider of ${node.name}`, node.provider as string)
    : await session.node((await session.localInfo(true)).provider_node as string);
  const takeTable = registerFilter(filters.registerOnlyTables, filters.registerSkipTables);
  const takeSeq = registerFilter(filters.registerOnlySeqs, filters.registerSkipSeqs);
  for (const table of await readTables(provider, session.queue)) {
    if (!takeTable(table.tableName)) continue;
    await session.change(node.name, local, 'select * from londiste.global_add_table($1, $2)', [
      session.queue,
      table.tableName,
    ]);
  }
  for (const seq of await readSeqs(provider, session.queue)) {
    if (!takeSeq(seq.seqName)) continue;
    await session.change(node.name, local, 'select * from londiste.global_update_seq($1, $2, $3)', [
      session.queue,
      seq.seqName,
      seq.lastValue,
    ]);
  }
}

/** The hooks of a run, with the register_* filters of its settings. */
export function londisteAdminHooks(settings: Filters): AdminHooks {
  return {
    ...londisteTakeoverHooks,
    async beforeCreateNode(session, node) {
      await installLondiste(session, node, await session.local());
    },
    async afterCreateNode(session, node) {
      const local = await session.local();
      if (node.type !== 'root' && node.provider !== null) {
        await copyRegistrations(session, node, local, settings);
      }
    },
  };
}

/**
 * wait-sync: block until every local table of the node is `ok`, saying every few seconds
 * which tables it still waits for (with the COPY's progress where one runs here). The copy
 * and the handover are the worker's and its copy helpers' work; this only watches.
 */
import type { AdminSession } from '../../cascade/admin/session.js';
import { CascadeError } from '../../cascade/node-calls.js';
import { isOk, readNodeTables, tableLine } from './status-tables.js';

export interface WaitSyncOptions {
  /** Give up after this many seconds; undefined or 0 = no limit. */
  timeoutSeconds?: number;
  pollMs?: number;
  /** How often the tables waited for are logged. */
  progressMs?: number;
}

export async function waitSync(session: AdminSession, options: WaitSyncOptions = {}) {
  const { queue } = session;
  const me = (await session.localInfo()).node_name as string;
  const db = await session.local();
  const started = Date.now();
  let lastProgress = started;
  let first = true;
  for (;;) {
    const { installed, tables } = await readNodeTables(db, queue);
    const pending = tables.filter((t) => t.local && !isOk(t));
    if (!installed) {
      throw new CascadeError(
        'NOT_A_NODE',
        `node ${me} has no londiste schema: no tables to wait for (create-root, create-branch or create-leaf of londiste install it)`,
        { queue, node: me },
      );
    }
    if (pending.length === 0) {
      const local = tables.filter((t) => t.local).length;
      session.out.print(`All ${local} tables of node ${me} are in sync`);
      return;
    }
    const elapsed = Date.now() - started;
    if (first || Date.now() - lastProgress >= (options.progressMs ?? 5000)) {
      first = false;
      lastProgress = Date.now();
      session.out.info(`Waiting for ${pending.length} tables to sync:`);
      for (const t of pending) session.out.info(`  ${tableLine(t, undefined)}`);
    }
    if (options.timeoutSeconds && elapsed >= options.timeoutSeconds * 1000) {
      throw new CascadeError(
        'WAIT_TIMEOUT',
        `tables of node ${me} not in sync within ${options.timeoutSeconds} s: ${pending.map((t) => `${t.name} (${t.mergeState ?? 'new'})`).join(', ')} (is the worker running?)`,
        { queue, node: me, tables: pending.map((t) => t.name) },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}
